"""This project through the same harness as the peers: its enqueue script, its worker process, its result events."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio as aioredis

from app.queue.contract import Keys
from app.queue.message import new_message
from app.queue.pipes import execute
from app.queue.store import Queue
from bench.peers._harness import Peer
from bench.peers._process import OURS_PYTHON, PeerError, WorkerSpec

ENQUEUE_BATCH = 1000  # enqueue scripts per pipeline: one round trip each
SAMPLE = 20


class OursPeer(Peer):
    """summarize-queue: `python -m app` with ROLE=worker; SUMMARIZER=noop, sleep, or gemini (the real
    google-genai SDK against the fake Gemini server at `gemini_url`, which answers after the job's delay)."""

    def __init__(self, redis_url: str, gemini_url: str | None = None, *, listened: bool = False) -> None:
        super().__init__(redis_url)
        self.name = ("ours+sdk+listener" if listened else "ours+sdk") if gemini_url else "ours"
        # Every job streamed, as when an event stream follows each (its message asks to be).
        self._listened = listened
        self.keys = Keys("job_queue", "job_result")
        self._gemini_url = gemini_url
        self._redis: aioredis.Redis | None = None
        self._queue: Queue | None = None
        self._events: asyncio.Queue[bytes] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None
        self._ids: list[str] = []
        self._delay_s: float | None = None

    @property
    def queue(self) -> Queue:
        assert self._queue is not None, "open() first"
        return self._queue

    async def open(self) -> None:
        self._redis = aioredis.Redis.from_url(self.redis_url)
        self._queue = Queue(self._redis, self.keys, result_ttl_s=3600)
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.keys.channel)
        self._listener = asyncio.create_task(self._listen(pubsub))

    async def _listen(self, pubsub: aioredis.client.PubSub) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._events.put_nowait(message["data"])
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()

    async def flush(self) -> None:
        await self.queue.redis.flushdb()
        self._ids = []

    async def enqueue(self, count: int, delay_s: float | None, *, checked: bool = True) -> None:
        self._delay_s = delay_s
        for start in range(0, count, ENQUEUE_BATCH):
            pipe = self.queue.redis.pipeline(transaction=False)
            for _ in range(min(ENQUEUE_BATCH, count - start)):
                message = new_message("A short text to summarize. It has two sentences.", stream=self._listened)
                await self.queue.producer.enqueue_into(pipe, message)
                if checked:
                    self._ids.append(message.id)
            await execute(pipe)

    async def remaining(self) -> int:
        """Queued, delayed, or held by a worker: a job leaves its processing list when it ends."""
        redis = self.queue.redis
        workers = [w.decode() for w in await redis.smembers(self.keys.workers)]
        pipe = redis.pipeline(transaction=False)
        pipe.llen(self.keys.queue)
        pipe.zcard(self.keys.delayed)
        for worker_id in workers:
            pipe.llen(self.keys.processing(worker_id))
        return sum(await pipe.execute())

    async def check_results(self) -> None:
        for job_id in self._ids[:: max(1, len(self._ids) // SAMPLE)]:
            record = await self.queue.reads.get_job(job_id)
            if record is None or record["status"] != "done":
                raise PeerError(f"{self.name}: job {job_id} ended {record}")

    async def run_one(self) -> None:
        """Enqueue one job and wait for its `done` event on job_result, as a client of the contract does."""
        message = new_message("One short text.")
        await self.queue.producer.enqueue(message)
        while True:
            event = orjson.loads(await self._events.get())
            if event["id"] == message.id:
                if event["status"] != "done":
                    raise PeerError(f"{self.name}: job ended {event}")
                return

    def worker_spec(self, concurrency: int) -> WorkerSpec:
        env = {
            "ROLE": "worker",
            "METRICS_PORT": "0",
            "REDIS_URL": self.redis_url,
            "WORKER_CONCURRENCY": str(concurrency),
            "LOG_LEVEL": "WARNING",
            "SUMMARIZER": "noop" if self._delay_s is None else "sleep",
            "SLEEP_SUMMARIZER_S": str(self._delay_s or 0),
        }
        if self._gemini_url is not None:
            # The jobs share one text: with the result cache on, one call would answer them all.
            env |= {
                "SUMMARIZER": "gemini",
                "GEMINI_API_KEY": "bench",
                "GEMINI_BASE_URL": self._gemini_url,
                "RESULT_CACHE_TTL": "0",
            }
        return WorkerSpec(argv=[OURS_PYTHON, "-m", "app"], env=env)
