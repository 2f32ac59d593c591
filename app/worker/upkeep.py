"""A worker's upkeep: its heartbeat, recovery of dead workers' jobs, promotion of due retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable

import orjson

from app.config import Settings
from app.connection.errors import RETRY_LATER
from app.metrics import Metrics
from app.queue.transitions import Transitions
from app.worker.outage import Link, Outage
from app.worker.strays import SWEEP_EVERY_BEATS, Strays

log = logging.getLogger(__name__)

# How often due retries are moved to the queue: the most a retry waits past its time.
PROMOTE_EVERY_S = 0.25
# The least time a heartbeat attempt gets before its connection is given up (half an interval
# otherwise): below it, a loaded machine would give up on beats that were only slow.
BEAT_ATTEMPT_MIN_S = 0.25


class Upkeep:
    """Beats every HEARTBEAT seconds (registering the worker), recovers the jobs of workers
    whose heartbeat lapsed, promotes due retries and puts back strays of its own list (messages
    none of its jobs holds: app/worker/strays.py), riding out outages."""

    def __init__(
        self,
        worker_id: str,
        transitions: Transitions,
        settings: Settings,
        link: Link,
        metrics: Metrics,
        holds: Callable[[bytes], bool] = lambda raw: False,
    ) -> None:
        self.worker_id = worker_id
        self._transitions = transitions
        self._settings = settings
        self._link = link
        self._metrics = metrics
        self._strays = Strays(worker_id, transitions, holds)
        self._beaten_at = -float("inf")
        self._info = orjson.dumps(
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": time.time(),
                "ttl_ms": round(settings.heartbeat_ttl_s * 1000),  # /stats: the heartbeat's age is ttl - pttl
            }
        )

    @property
    def healthy(self) -> bool:
        """The heartbeat is current: the loop runs and Redis takes its writes."""
        return time.monotonic() - self._beaten_at < self._settings.heartbeat_ttl_s

    async def beat(self) -> None:
        await self._transitions.beat(self.worker_id, self._settings.heartbeat_ttl_s, self._info)
        now, before = time.monotonic(), self._beaten_at
        self._beaten_at = now
        if now - before > self._settings.heartbeat_ttl_s and before != -float("inf"):
            # Said on the worker's side too: the jobs it holds may be running a second time elsewhere.
            lapse = {"worker_id": self.worker_id, "since_last_beat_s": round(now - before, 1)}
            log.warning("heartbeat lapsed: other workers may have recovered jobs held here", extra=lapse)

    async def run(self, stopping: asyncio.Event) -> None:
        """Until `stopping` is set (a flag, as well as a cancellation: redis-py can swallow one).
        The heartbeat has a loop of its own: a command that hangs in the other (a connection
        whose peer vanished waits out its socket timeout) must not hold the beat past its TTL,
        or a live worker's jobs are recovered and run twice."""
        await asyncio.gather(self._beat_loop(stopping), self._tend_loop(stopping))

    async def _beat_loop(self, stopping: asyncio.Event) -> None:
        outage = Outage("heartbeat")
        every_s = self._settings.heartbeat_s
        attempt_s = max(every_s / 2, BEAT_ATTEMPT_MIN_S)
        while not stopping.is_set():
            began = time.monotonic()
            try:
                async with asyncio.timeout(attempt_s):  # a hung connection is dropped, and the next beat takes another
                    await self.beat()
            except RETRY_LATER as exc:
                self._link.lost()
                await outage.hit(exc)
                continue
            outage.clear()
            with contextlib.suppress(TimeoutError):  # the next beat's time, or the stop, whichever first
                await asyncio.wait_for(stopping.wait(), max(0.0, began + every_s - time.monotonic()))

    async def _tend_loop(self, stopping: asyncio.Event) -> None:
        outage = Outage("upkeep")
        every_s = self._settings.heartbeat_s
        next_recovery, next_sweep = 0.0, time.monotonic() + SWEEP_EVERY_BEATS * every_s
        while not stopping.is_set():
            try:
                now = time.monotonic()
                if now >= next_recovery:
                    await self._recover_orphans()
                    next_recovery = now + every_s
                if now >= next_sweep:
                    self._metrics.recovered.inc(await self._strays.sweep())
                    next_sweep = now + SWEEP_EVERY_BEATS * every_s
                await self._transitions.promote_due()
            except RETRY_LATER as exc:
                await outage.hit(exc)
                self._link.lost()
                continue
            outage.clear()
            await asyncio.sleep(min(PROMOTE_EVERY_S, every_s))

    async def _recover_orphans(self) -> None:
        # After an outage every heartbeat may have lapsed at once; give live workers
        # a full heartbeat TTL to beat again before calling anyone dead. A worker whose
        # own beat is not current judges nobody: its view of Redis is the stale one.
        if not self.healthy or time.monotonic() - self._link.reachable_since < self._settings.heartbeat_ttl_s:
            return
        for worker_id in await self._transitions.orphaned_workers(self.worker_id):
            moved = await self._transitions.requeue(worker_id, orphan=True)
            if moved > 0:
                self._metrics.recovered.inc(moved)
                log.warning("recovered jobs of a dead worker", extra={"dead_worker": worker_id, "jobs": moved})
