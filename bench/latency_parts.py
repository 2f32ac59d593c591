"""W3's parts: one no-op job at a time, pushed as a foreign producer would, its `done` event awaited;
each job's record gives when its start was sent (`started_at`) and its ending (`finished_at`), so
the push-to-event time splits into push → start, start → finish and finish → event.

Usage: python -m bench.latency_parts [JOBS]   (default 400; the first 50 are left out as warm-up)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import redis.asyncio as aioredis

from app.queue.contract import Keys
from app.queue.message import new_message
from bench.peers._harness import percentile
from bench.peers._process import OURS_PYTHON
from tests.helpers import eventually
from tests.redis_server import temporary_redis

WARM_UP = 50


async def parts(url: str, jobs: int) -> dict[str, tuple[float, float]]:
    redis, keys = aioredis.Redis.from_url(url), Keys("job_queue", "job_result")
    env = os.environ | {"ROLE": "worker", "REDIS_URL": url, "SUMMARIZER": "noop", "METRICS_PORT": "0"}
    worker = await asyncio.create_subprocess_exec(OURS_PYTHON, "-m", "app", env=env | {"LOG_LEVEL": "WARNING"})
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    rows: list[tuple[float, float, float, float]] = []
    try:
        await pubsub.subscribe(keys.channel)
        await eventually(lambda: redis.scard(keys.workers), timeout_s=30, what="the worker registered")
        for _ in range(jobs):
            message = new_message("A short text. Two sentences.")
            pushed = time.time()
            await redis.lpush(keys.queue, message.encode())
            while await pubsub.get_message(timeout=5) is None:
                pass
            heard = time.time()
            started, finished = (float(v) for v in await redis.hmget(keys.job(message.id), "started_at", "finished_at"))
            rows.append((started - pushed, finished - started, heard - finished, heard - pushed))
    finally:
        worker.terminate()
        await worker.wait()
        await pubsub.aclose()
        await redis.aclose()
    names = ("push -> start", "start -> finish", "finish -> event", "push -> event")
    kept = rows[WARM_UP:]
    return {
        name: (percentile(sorted(r[i] * 1000 for r in kept), 0.5), percentile(sorted(r[i] * 1000 for r in kept), 0.9))
        for i, name in enumerate(names)
    }


async def main(jobs: int) -> None:
    with temporary_redis() as url:
        result = await parts(url, jobs)
    print(f"W3 in parts, {jobs - WARM_UP} jobs one at a time (ms)")
    for name, (p50, p90) in result.items():
        print(f"  {name:<16} p50 {p50:.3f}  p90 {p90:.3f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400))
