"""SAQ through its client API: `Queue.enqueue`, `Queue.count("incomplete")`, and `Job.refresh(until_complete=...)`."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from saq import Queue
from saq.job import Job, Status

from bench.peers._harness import Peer
from bench.peers._process import PeerError, WorkerSpec

ENQUEUE_BATCH = 500  # SAQ itself caps concurrent enqueue operations (max_concurrent_ops, 20)
LISTEN_WINDOW_S = 1.0  # Job.refresh waits this long for the completion message, then reads the job again
SAMPLE = 20  # jobs whose status is checked after a drain


class SaqPeer(Peer):
    """SAQ with its defaults, the worker's concurrency set to the requested one; the sweep as saq_worker.py says."""

    name = "saq"

    def __init__(self, redis_url: str) -> None:
        super().__init__(redis_url)
        self._queue: Queue | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._jobs: list[Job] = []

    @property
    def queue(self) -> Queue:
        assert self._queue is not None, "open() first"
        return self._queue

    async def open(self) -> None:
        self._queue = Queue.from_url(self.redis_url)
        await self._queue.connect()
        # SAQ routes job updates through one pattern subscription that it drops when nobody listens;
        # a standing listener keeps it up, so a job that completes right after enqueue is not missed.
        self._keepalive = asyncio.create_task(self._queue.listen(["bench-keepalive"], lambda *_: False, timeout=None))

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        if self._queue is not None:
            await self._queue.disconnect()

    async def flush(self) -> None:
        await self.queue.redis.flushdb()
        self._jobs = []

    async def enqueue(self, count: int, delay_s: float | None, *, checked: bool = True) -> None:
        kwargs = {} if delay_s is None else {"delay_s": delay_s}
        function = "noop" if delay_s is None else "io_sleep"
        for start in range(0, count, ENQUEUE_BATCH):
            size = min(ENQUEUE_BATCH, count - start)
            jobs = await asyncio.gather(*(self.queue.enqueue(function, **kwargs) for _ in range(size)))
            if checked:
                self._jobs += [job for job in jobs if job is not None]

    async def remaining(self) -> int:
        return await self.queue.count("incomplete")

    async def check_results(self) -> None:
        step = max(1, len(self._jobs) // SAMPLE)
        for job in self._jobs[::step]:
            await job.refresh()
            if job.status != Status.COMPLETE:
                raise PeerError(f"{self.name}: job {job.key} ended {job.status}: {job.error}")

    async def run_one(self) -> None:
        job = await self.queue.enqueue("noop")
        if job is None:
            raise PeerError(f"{self.name}: enqueue returned None")
        while not job.completed:
            with contextlib.suppress(TimeoutError):
                await job.refresh(until_complete=LISTEN_WINDOW_S)
        if job.status != Status.COMPLETE:
            raise PeerError(f"{self.name}: job {job.key} ended {job.status}: {job.error}")

    def worker_spec(self, concurrency: int) -> WorkerSpec:
        argv = [sys.executable, "-m", "saq", "bench.peers.saq_worker.settings"]
        return WorkerSpec(argv, {"BENCH_REDIS_URL": self.redis_url, "BENCH_CONCURRENCY": str(concurrency)})
