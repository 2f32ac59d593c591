"""Riding out a Redis outage: backoff that logs once per outage, and writes that retry until they land.

Two kinds of outage: Redis unreachable (connection refused, reset, timed out), and Redis full:
with `maxmemory` and `maxmemory-policy noeviction` (as compose.yaml runs it: a queue must never
have keys evicted) a full Redis refuses every command that may grow memory with an OOM error
until something frees memory. To a writer both are the same: nothing was written, back off and
try again. (Reads, deletes and scripts whose first write frees memory still run on a full Redis.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.connection.errors import FULL, RETRY_LATER

log = logging.getLogger(__name__)

T = TypeVar("T")


class Outage:
    """Backoff for Redis being unreachable or full, logging once per outage (and once more if
    it turns from one kind into the other) rather than per attempt."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.delay_s = 0.0
        self.full = False  # this outage is Redis refusing writes for memory, not Redis away

    async def hit(self, exc: BaseException) -> None:
        full = isinstance(exc, FULL)
        if self.delay_s == 0.0 or full != self.full:
            extra = {"during": self.what, "error": repr(exc)}
            if full:
                log.warning("redis full (maxmemory): writes refused; retrying with backoff", extra=extra)
            else:
                log.warning("redis unreachable; retrying with backoff", extra=extra)
        self.full = full
        self.delay_s = min(max(self.delay_s * 2, 0.05), 2.0)
        await asyncio.sleep(self.delay_s)

    def clear(self) -> None:
        if self.delay_s:
            log.info("redis takes writes again" if self.full else "redis reachable again", extra={"during": self.what})
        self.delay_s = 0.0
        self.full = False


class Link:
    """A worker's view of its Redis: since when it has been taking writes (after an outage,
    recovery gives live workers a heartbeat TTL to beat again before calling them dead),
    and whether writes still retry (not once the worker gave up at shutdown)."""

    def __init__(self) -> None:
        self.reachable_since = time.monotonic()
        self.giving_up = False

    def lost(self) -> None:
        self.reachable_since = time.monotonic()

    async def until_written(self, write: Callable[[], Awaitable[T]]) -> T:
        """`write()` again and again through an outage (Redis unreachable, or full) until Redis
        takes it; raises the outage once the worker gives up (recovery then does what this
        could not). A full Redis counts as lost too: every heartbeat may lapse while it is."""
        outage = Outage("write")
        while True:
            try:
                result = await write()
            except RETRY_LATER as exc:
                if self.giving_up:
                    raise
                await outage.hit(exc)
                self.lost()
                continue
            outage.clear()
            return result
