"""Riding out a Redis outage: backoff that logs once per outage, and writes that retry until they land."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.connection.errors import UNAVAILABLE

log = logging.getLogger(__name__)

T = TypeVar("T")


class Outage:
    """Backoff for Redis being unreachable, logging once per outage rather than per attempt."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.delay_s = 0.0

    async def hit(self, exc: BaseException) -> None:
        if self.delay_s == 0.0:
            log.warning("redis unreachable; retrying with backoff", extra={"during": self.what, "error": repr(exc)})
        self.delay_s = min(max(self.delay_s * 2, 0.05), 2.0)
        await asyncio.sleep(self.delay_s)

    def clear(self) -> None:
        if self.delay_s:
            log.info("redis reachable again", extra={"during": self.what})
        self.delay_s = 0.0


class Link:
    """A worker's view of its Redis: since when it has been reachable (after an outage,
    recovery gives live workers a heartbeat TTL to beat again before calling them dead),
    and whether writes still retry (not once the worker gave up at shutdown)."""

    def __init__(self) -> None:
        self.reachable_since = time.monotonic()
        self.giving_up = False

    def lost(self) -> None:
        self.reachable_since = time.monotonic()

    async def until_written(self, write: Callable[[], Awaitable[T]]) -> T:
        """`write()` again and again through an outage until Redis takes it; raises the
        outage once the worker gives up (recovery then does what this could not)."""
        outage = Outage("write")
        while True:
            try:
                result = await write()
            except UNAVAILABLE as exc:
                if self.giving_up:
                    raise
                await outage.hit(exc)
                self.lost()
                continue
            outage.clear()
            return result
