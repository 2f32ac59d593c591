"""W1 drain, first form: N no-op jobs already queued, one worker process, jobs/s until the last is done.

Usage: python -m bench.drain [N] [CONCURRENCY]   (needs redis-server on PATH; starts its own)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

from app.queue.contract import Keys
from app.queue.message import new_message
from bench.peers._process import OURS_PYTHON
from tests.redis_server import RedisServer


async def fill(redis: aioredis.Redis, keys: Keys, n: int) -> None:
    for start in range(0, n, 1000):
        pipe = redis.pipeline(transaction=False)
        for _ in range(start, min(start + 1000, n)):
            message = new_message("a short text to summarize. " * 4)
            pipe.hset(keys.job(message.id), mapping={"status": "queued", "attempts": 0})
            pipe.lpush(keys.queue, message.encode())
        await pipe.execute()


async def drain(n: int, concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        keys = Keys("bench_queue", "bench_results")
        redis = aioredis.Redis.from_url(server.url)
        await fill(redis, keys, n)
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(keys.channel)
        env = os.environ | {
            "ROLE": "worker",
            "REDIS_URL": server.url,
            "QUEUE_NAME": keys.queue,
            "RESULT_CHANNEL": keys.channel,
            "METRICS_PORT": "0",
            "SUMMARIZER": "noop",
            "WORKER_CONCURRENCY": str(concurrency),
            "LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        worker = await asyncio.create_subprocess_exec(OURS_PYTHON, "-m", "app", env=env)
        done = 0
        while done < n:
            message = await pubsub.get_message(timeout=30)
            if message is None:
                continue
            done += 1
        elapsed = time.perf_counter() - started
        worker.terminate()
        await worker.wait()
        await pubsub.aclose()
        await redis.aclose()
        server.stop()
    return n / elapsed


if __name__ == "__main__":
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    slots = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rate = asyncio.run(drain(jobs, slots))
    print(f"W1 drain: {jobs} no-op jobs, one worker, concurrency {slots}: {rate:,.0f} jobs/s (incl. process start)")
