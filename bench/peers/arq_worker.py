"""The arq worker the bench starts: `python -m arq bench.peers.arq_worker.WorkerSettings`.

Settings come from the environment the bench sets: BENCH_REDIS_URL, and BENCH_ARQ_TUNED=1 with
BENCH_CONCURRENCY for "arq-tuned" (poll_delay 0.01 s, max_jobs = concurrency). Without it the worker
runs with arq's defaults (max_jobs 10, poll_delay 0.5 s).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from arq.connections import RedisSettings

TUNED_POLL_DELAY_S = 0.01

# Passed with --custom-log-dict: arq's CLI default logs every job at INFO; all peers run at WARNING.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler", "level": "WARNING"}},
    "loggers": {"arq": {"handlers": ["stderr"], "level": "WARNING"}},
}


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def io_sleep(ctx: dict[str, Any], delay_s: float) -> None:
    await asyncio.sleep(delay_s)


def _tuning() -> dict[str, Any]:
    if os.environ.get("BENCH_ARQ_TUNED") != "1":
        return {}
    return {"poll_delay": TUNED_POLL_DELAY_S, "max_jobs": int(os.environ["BENCH_CONCURRENCY"])}


WorkerSettings = type(
    "WorkerSettings",
    (),
    {
        "functions": [noop, io_sleep],
        "redis_settings": RedisSettings.from_dsn(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")),
        **_tuning(),
    },
)
