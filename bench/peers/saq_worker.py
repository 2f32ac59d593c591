"""The SAQ worker the bench starts: `python -m saq bench.peers.saq_worker.settings`.

The queue comes from BENCH_REDIS_URL; the worker's `concurrency` ("number of jobs to process concurrently", SAQ's
Worker docs) from BENCH_CONCURRENCY. Everything else is SAQ's default but for when the sweep runs:

- SAQ's sweep cleans up after workers that died: `timers["sweep"]` is "how often to clean up stuck jobs" (default
  60 s), and an active job is stuck once past its `timeout`, "the maximum amount of time a job can run for" (default
  10 s). The worker's upkeep sweeps once as it starts and then every `timers["sweep"]` seconds.
- SAQ 0.26.4's `RedisQueue.sweep` also takes a job that a slot has just moved to the active list (BLMOVE) but not yet
  marked ACTIVE (tobymao/saq#124, #277 open): it aborts it as "swept", and the job, which runs all the same, ends
  ABORTED (ABORTING for up to 5 s first). Here every slot dequeues at once from a full queue, so the start-up sweep
  caught jobs (`saq: job ... ended Status.ABORTING: swept`), and a sweep during a long drain could too.
- So the start-up sweep runs in the `startup` hook, before any slot dequeues (nothing is active yet, as after a real
  restart), and `timers["sweep"]` is longer than any run of the bench: no sweep mid-run. The hook's sweep holds SAQ's
  sweep lock for that period, which makes the upkeep's own first sweep a no-op.
- Jobs keep SAQ's default `timeout` of 10 s: the bench's jobs run for at most 50 ms.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from saq import Queue

SWEEP_PERIOD_S = 3600  # longer than any run of the bench (bench.peers.DRAIN_TIMEOUT_S is 300 s)


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def io_sleep(ctx: dict[str, Any], *, delay_s: float) -> None:
    await asyncio.sleep(delay_s)


def settings() -> dict[str, Any]:
    queue = Queue.from_url(os.environ["BENCH_REDIS_URL"])

    async def sweep_before_dequeuing(ctx: dict[str, Any]) -> None:
        await queue.sweep(lock=SWEEP_PERIOD_S)

    return {
        "queue": queue,
        "functions": [noop, io_sleep],
        "concurrency": int(os.environ["BENCH_CONCURRENCY"]),
        "startup": sweep_before_dequeuing,
        "timers": {"sweep": SWEEP_PERIOD_S},
    }
