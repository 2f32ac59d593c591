"""Stopping background tasks that talk to Redis, reliably.

On Python 3.11 a cancellation that lands as a redis-py command completes can be lost:
redis-py wraps each send in asyncio.wait_for, whose 3.11 version returns the inner
result instead of raising when both happen at once (redis/redis-py#2028). A loop that
ends only by being cancelled may then run on, and whoever awaits it waits forever. So
every loop here also ends on a flag of its own, and its owner waits for it with a bound.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def stop(task: asyncio.Task[object] | None, within_s: float = 5.0) -> bool:
    """Cancel `task` (its loop has been told to end as well) and wait for it at most
    `within_s`. Returns whether it ended; a task that did not is logged and abandoned."""
    if task is None:
        return True
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=within_s)
    if not done:
        log.error("background task did not stop; abandoned", extra={"task": task.get_name(), "within_s": within_s})
        return False
    if not task.cancelled() and task.exception() is not None:
        log.error("background task had failed", exc_info=task.exception(), extra={"task": task.get_name()})
    return True
