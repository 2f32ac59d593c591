"""JOB_TIMEOUT for model calls: one sweeper instead of a timer per call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class Deadlines:
    """Cancels calls that outlive `timeout_s` (at most one sweep late); the call raises
    TimeoutError. Every call gets the same timeout, so insertion order is deadline order
    and a sweep looks only at the oldest. The sweeper removes the calls it cancels: a call
    no longer listed was cancelled for its deadline, anything else is a shutdown."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._calls: dict[asyncio.Task[object], float] = {}
        self._stopping = False

    async def timed(self, call: Awaitable[T]) -> T:
        """`call`, bounded by the timeout: TimeoutError when it runs past it."""
        task = asyncio.current_task()
        assert task is not None
        self._calls[task] = time.monotonic() + self.timeout_s
        try:
            return await call
        except asyncio.CancelledError:
            if task not in self._calls and task.uncancel() == 0:
                raise TimeoutError from None
            raise  # a shutdown, not (only) the deadline
        finally:
            self._calls.pop(task, None)

    async def run(self) -> None:
        """Sweep until `stop()`."""
        every_s = min(0.1, self.timeout_s / 10)
        while not self._stopping:
            await asyncio.sleep(every_s)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        while self._calls:
            task, deadline = next(iter(self._calls.items()))
            if deadline > now:
                break  # the rest are later
            del self._calls[task]
            task.cancel()

    def stop(self) -> None:
        self._stopping = True
