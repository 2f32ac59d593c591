"""W1 with its CPU split: a drain of N queued no-op jobs by one worker process, and the CPU time the
worker and redis-server spent (from /proc), per job: which of the two bounds the drain.

Usage: python -m bench.cpu_per_job [N]   (default 40000; needs redis-server on PATH, Linux)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import redis.asyncio as aioredis

from app.queue.contract import Keys
from app.queue.message import new_message
from app.queue.pipes import execute
from app.queue.store import Queue
from bench.peers._harness import print_figures
from bench.peers._process import OURS_PYTHON
from tests.helpers import eventually
from tests.redis_server import temporary_redis


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drain(url: str, jobs: int) -> dict[str, float]:
    redis = aioredis.Redis.from_url(url)
    queue = Queue(redis, Keys("job_queue", "job_result"))
    for _ in range(0, jobs, 1000):
        pipe = redis.pipeline(transaction=False)
        for _ in range(1000):
            await queue.producer.enqueue_into(pipe, new_message("A short text to summarize. It has two sentences."))
        await execute(pipe)
    redis_pid = int((await redis.info("server"))["process_id"])
    env = os.environ | {"ROLE": "worker", "REDIS_URL": url, "SUMMARIZER": "noop", "WORKER_CONCURRENCY": "100"}
    env |= {"METRICS_PORT": "0", "LOG_LEVEL": "WARNING"}
    worker = await asyncio.create_subprocess_exec(OURS_PYTHON, "-m", "app", env=env)

    async def done() -> bool:
        return int(await redis.hget(queue.keys.totals, "done") or 0) >= jobs

    try:
        await eventually(lambda: redis.scard(queue.keys.workers), timeout_s=30, what="the worker registered")
        began, worker_s, redis_s = time.perf_counter(), cpu_s(worker.pid), cpu_s(redis_pid)
        await eventually(done, timeout_s=600, what=f"{jobs} jobs done")
        took = time.perf_counter() - began
        worker_s, redis_s = cpu_s(worker.pid) - worker_s, cpu_s(redis_pid) - redis_s
    finally:
        worker.terminate()
        await worker.wait()
        await redis.aclose()
    return {
        "jobs/s": jobs / took,
        "worker cores": worker_s / took,
        "redis cores": redis_s / took,
        "worker us/job": worker_s / jobs * 1e6,
        "redis us/job": redis_s / jobs * 1e6,
    }


async def main(jobs: int) -> None:
    with temporary_redis() as url:
        result = await drain(url, jobs)
    print_figures(f"W1 drain of {jobs} no-op jobs, one worker, 100 slots", result)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40_000))
