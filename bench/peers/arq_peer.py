"""arq through its client API: `ArqRedis.enqueue_job`, `Job.result`, and the queue's sorted set for the drain."""

from __future__ import annotations

import asyncio
import sys

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name
from arq.jobs import Job

from bench.peers._harness import Peer
from bench.peers._process import PeerError, WorkerSpec
from bench.peers.arq_worker import TUNED_POLL_DELAY_S

ENQUEUE_BATCH = 200  # arq enqueues one job per WATCH/MULTI transaction: run that many at once
DEFAULT_RESULT_POLL_S = 0.5  # Job.result's default poll_delay
SAMPLE = 20  # jobs whose results are checked after a drain


class ArqPeer(Peer):
    """arq with its defaults, or tuned: poll_delay 0.01 s in worker and client, max_jobs = concurrency."""

    def __init__(self, redis_url: str, *, tuned: bool) -> None:
        super().__init__(redis_url)
        self.name = "arq-tuned" if tuned else "arq"
        self.tuned = tuned
        self._pool: ArqRedis | None = None
        self._jobs: list[Job] = []

    @property
    def pool(self) -> ArqRedis:
        assert self._pool is not None, "open() first"
        return self._pool

    async def open(self) -> None:
        self._pool = await create_pool(RedisSettings.from_dsn(self.redis_url))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def flush(self) -> None:
        await self.pool.flushdb()
        self._jobs = []

    async def enqueue(self, count: int, delay_s: float | None, *, checked: bool = True) -> None:
        args = () if delay_s is None else (delay_s,)
        function = "noop" if delay_s is None else "io_sleep"
        for start in range(0, count, ENQUEUE_BATCH):
            size = min(ENQUEUE_BATCH, count - start)
            jobs = await asyncio.gather(*(self.pool.enqueue_job(function, *args) for _ in range(size)))
            if checked:
                self._jobs += [job for job in jobs if job is not None]

    async def remaining(self) -> int:
        # A job leaves arq's queue (a sorted set) only when the worker finishes it.
        return await self.pool.zcard(default_queue_name)

    async def check_results(self) -> None:
        step = max(1, len(self._jobs) // SAMPLE)
        for job in self._jobs[::step]:
            info = await job.result_info()
            if info is None or not info.success:
                raise PeerError(f"{self.name}: job {job.job_id} did not succeed: {info}")

    async def run_one(self) -> None:
        job = await self.pool.enqueue_job("noop")
        if job is None:
            raise PeerError(f"{self.name}: enqueue_job returned None")
        await job.result(poll_delay=TUNED_POLL_DELAY_S if self.tuned else DEFAULT_RESULT_POLL_S)

    def worker_spec(self, concurrency: int) -> WorkerSpec:
        argv = [
            sys.executable,
            "-m",
            "arq",
            "bench.peers.arq_worker.WorkerSettings",
            "--custom-log-dict",
            "bench.peers.arq_worker.LOG_CONFIG",
        ]
        env = {
            "BENCH_REDIS_URL": self.redis_url,
            "BENCH_CONCURRENCY": str(concurrency),
            "BENCH_ARQ_TUNED": "1" if self.tuned else "0",
        }
        return WorkerSpec(argv, env)
