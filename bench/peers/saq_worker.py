"""The SAQ worker the bench starts: `python -m saq bench.peers.saq_worker.settings`.

SAQ's defaults except concurrency, which comes from BENCH_CONCURRENCY; the queue from BENCH_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from saq import Queue


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def io_sleep(ctx: dict[str, Any], *, delay_s: float) -> None:
    await asyncio.sleep(delay_s)


def settings() -> dict[str, Any]:
    return {
        "queue": Queue.from_url(os.environ["BENCH_REDIS_URL"]),
        "functions": [noop, io_sleep],
        "concurrency": int(os.environ["BENCH_CONCURRENCY"]),
    }
