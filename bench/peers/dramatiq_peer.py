"""dramatiq through its client API: `Actor.send` and the Results middleware; its own Redis hashes for the drain.

dramatiq's client is synchronous, so sends and result waits run in a thread (asyncio.to_thread).
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis
from dramatiq import Actor

from bench.peers._harness import JOB_TIMEOUT_S, Peer
from bench.peers._process import PeerError, WorkerSpec
from bench.peers.dramatiq_app import QUEUE, DramatiqApp, build


def _send_many(actor: Actor, count: int, args: tuple[float, ...]) -> None:
    for _ in range(count):
        actor.send(*args)


def _send_and_wait(app: DramatiqApp) -> None:
    message = app.probe.send()
    message.get_result(backend=app.results, block=True, timeout=int(JOB_TIMEOUT_S * 1000))


class DramatiqPeer(Peer):
    """dramatiq's Redis broker; one worker process with `--threads concurrency`."""

    name = "dramatiq"

    def __init__(self, redis_url: str) -> None:
        super().__init__(redis_url)
        self._app: DramatiqApp | None = None
        self._redis: aioredis.Redis | None = None

    @property
    def app(self) -> DramatiqApp:
        assert self._app is not None, "open() first"
        return self._app

    @property
    def redis(self) -> aioredis.Redis:
        assert self._redis is not None, "open() first"
        return self._redis

    def _key(self, suffix: str) -> str:
        return f"{self.app.broker.namespace}:{QUEUE}{suffix}"

    async def open(self) -> None:
        self._app = build(self.redis_url)
        self._redis = aioredis.Redis.from_url(self.redis_url)

    async def close(self) -> None:
        if self._app is not None:
            self._app.broker.close()
            self._app.results.client.close()
        if self._redis is not None:
            await self._redis.aclose()

    async def flush(self) -> None:
        await self.redis.flushdb()

    async def enqueue(self, count: int, delay_s: float | None, *, checked: bool = True) -> None:
        actor, args = (self.app.noop, ()) if delay_s is None else (self.app.io_sleep, (delay_s,))
        await asyncio.to_thread(_send_many, actor, count, args)

    async def remaining(self) -> int:
        # A message's body stays in the queue's hash (".msgs") until the worker acks it; retries wait in ".DQ.msgs".
        # These are the hashes RedisBroker.join counts; join itself sleeps and double-counts messages in flight.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hlen(self._key(".msgs"))
            pipe.hlen(self._key(".DQ.msgs"))
            queued, delayed = await pipe.execute()
        return queued + delayed

    async def check_results(self) -> None:
        dead = await self.redis.zcard(self._key(".XQ"))
        if dead:
            raise PeerError(f"{self.name}: {dead} messages were dead-lettered")

    async def run_one(self) -> None:
        await asyncio.to_thread(_send_and_wait, self.app)

    def worker_spec(self, concurrency: int) -> WorkerSpec:
        # One process with one thread per slot. dramatiq's docs: the CLI runs `--processes` (default: one per CPU)
        # with `--threads` worker threads each (default 8), and "the maximum number of concurrent messages processed
        # by a worker process is equal to the number of worker threads" (cookbook, AsyncIO). So threads = slots, and
        # the broker prefetches its default 2 x threads messages per process.
        argv = [
            sys.executable,
            "-m",
            "dramatiq",
            "bench.peers.dramatiq_worker",
            "--processes",
            "1",
            "--threads",
            str(concurrency),
        ]
        return WorkerSpec(argv, {"BENCH_REDIS_URL": self.redis_url})
