"""Redis memory per finished job, at rest: what a day of finished jobs costs the Redis it runs on.

One service process (ROLE=all, the default extractive summarizer, every default on) on a bench-owned
redis-server. After one warm-up job (scripts loaded, the worker registered), Redis's `used_memory` is read;
then `jobs` short texts go through the API (POST /process, 50 at a time) and, once the totals say every one
is done, `used_memory` is read again. (after - before) / jobs is what one finished job leaves in Redis until
RESULT_TTL: its record, and anything else that was not cleaned up with its ending (the progress stream of
earlier versions: 4.8 KB a job). The target is 600 bytes.

Usage: python -m bench.redis_memory [JOBS [TEXT_CHARS]]   (needs redis-server on PATH; starts its own)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from app.queue.contract import Keys
from bench.http_bench import BenchError, app_process, bench_db, free_port, guarded, sample_text
from tests.helpers import until_ok

QUEUE = "bench_redis_mem"
# Short texts, as most API traffic: their records stay in Redis's compact hash encoding (listpack,
# values up to hash-max-listpack-value = 64 bytes); a longer summary makes a plain hash table.
TEXT_CHARS = 48
AT_ONCE = 50
DONE_TIMEOUT_S = 120.0


async def _done(redis: aioredis.Redis, keys: Keys, count: int) -> None:
    """Return once the totals count `count` jobs done (a read every 50 ms: the bench's clock, not the service's)."""
    while True:
        if int(await redis.hget(keys.totals, "done") or 0) >= count:
            return
        await asyncio.sleep(0.05)


async def _submit_all(http: aiohttp.ClientSession, base: str, jobs: int, text_chars: int) -> None:
    body = {"text": sample_text(text_chars)}
    pending = iter(range(jobs))

    async def client() -> None:
        for i in pending:
            async with http.post(f"{base}/process", json={"text": f"{i % 10}{body['text']}"}) as response:
                if response.status != 202:
                    raise BenchError(f"POST /process answered {response.status}: {await response.text()}")

    await asyncio.gather(*(client() for _ in range(AT_ONCE)))


async def redis_bytes_per_finished_job(redis_url: str, jobs: int = 2000, text_chars: int = TEXT_CHARS) -> dict:
    keys = Keys(QUEUE, f"{QUEUE}_results")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with bench_db(redis_url) as redis, aiohttp.ClientSession() as http:
        service = app_process("service", redis_url, QUEUE, ROLE="all", PORT=str(port), METRICS_PORT="0")
        async with service:
            await guarded(until_ok(f"{base}/readyz", 30), [service], 30, "service ready")
            await _submit_all(http, base, 1, text_chars)
            await guarded(_done(redis, keys, 1), [service], DONE_TIMEOUT_S, "the warm-up job done")
            before = int((await redis.info("memory"))["used_memory"])
            started = time.monotonic()
            await _submit_all(http, base, jobs, text_chars)
            await guarded(_done(redis, keys, jobs + 1), [service], DONE_TIMEOUT_S, f"{jobs} jobs done")
            took_s = time.monotonic() - started
            after = int((await redis.info("memory"))["used_memory"])
            streams = [key async for key in redis.scan_iter(match=keys.stream("*"), count=1000)]
            [sample] = [key async for key in redis.scan_iter(match=keys.job("*"), count=1000)][:1] or [None]
            record_bytes = await redis.memory_usage(sample) if sample else None
    return {
        "workload": "Redis memory per finished job, at rest",
        "jobs": jobs,
        "text_chars": text_chars + 1,
        "used_memory_before": before,
        "used_memory_after": after,
        "bytes_per_finished_job": round((after - before) / jobs),
        "record_memory_usage_bytes": record_bytes,
        "streams_left": len(streams),
        "took_s": round(took_s, 2),
    }


def main(argv: list[str]) -> int:
    from tests.redis_server import RedisServer

    jobs = int(argv[0]) if argv else 2000
    text_chars = int(argv[1]) if len(argv) > 1 else TEXT_CHARS
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            print(asyncio.run(redis_bytes_per_finished_job(server.url, jobs, text_chars)))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
