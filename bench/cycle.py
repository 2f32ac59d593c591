"""Where a W2 slot's time goes: one drain of sleeping jobs, then each job's record read back.

Every record holds `started_at` (when its start batch was sent) and `finished_at` (when its
completion was sent). From them: the run (start to finish, the model call plus the worker's
own work around it), the refill (a start after the latest finish before it), the mean size
of a start batch (jobs sharing one `started_at`) and the slot's whole cycle.

Usage: python -m bench.cycle [JOBS [AT_ONCE [SECONDS_PER_CALL]]]   (default 2000 100 0.05)
"""

from __future__ import annotations

import asyncio
import bisect
import sys

import redis.asyncio as aioredis

from bench.peers._harness import drain, percentile, print_figures
from bench.peers.ours_peer import OursPeer
from tests.redis_server import temporary_redis


async def trace(redis_url: str, jobs: int, at_once: int, call_s: float) -> dict[str, float]:
    peer = OursPeer(redis_url)
    rate = await drain(peer, jobs, at_once, call_s, timeout_s=120)
    async with aioredis.Redis.from_url(redis_url) as redis:
        pipe = redis.pipeline(transaction=False)
        for job_id in peer._ids:
            pipe.hmget(peer.keys.job(job_id), "started_at", "finished_at")
        spans = sorted((float(s), float(f)) for s, f in await pipe.execute())
    starts = [s for s, _ in spans]
    finishes = sorted(f for _, f in spans)
    runs = sorted(f - s for s, f in spans)
    refills = sorted(s - finishes[k] for s in starts[at_once:] if (k := bisect.bisect_left(finishes, s) - 1) >= 0)
    return {
        "jobs/s": rate,
        "fraction of ideal": rate / (at_once / call_s),
        "run p50 ms": 1000 * percentile(runs, 0.5),
        "run p90 ms": 1000 * percentile(runs, 0.9),
        "refill p50 ms": 1000 * percentile(refills, 0.5),
        "refill p90 ms": 1000 * percentile(refills, 0.9),
        "jobs per start batch": len(spans) / len(set(starts)),
        "slot cycle ms": 1000 * (finishes[-1] - starts[0]) / (len(spans) / at_once),
    }


async def main(jobs: int, at_once: int, call_s: float) -> None:
    with temporary_redis() as url:
        result = await trace(url, jobs, at_once, call_s)
    print_figures(f"{jobs} jobs, {at_once} at once, {call_s * 1000:g} ms per call", result)


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(
        main(
            int(args[0]) if args else 2000,
            int(args[1]) if len(args) > 1 else 100,
            float(args[2]) if len(args) > 2 else 0.05,
        )
    )
