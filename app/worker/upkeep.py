"""A worker's upkeep: its heartbeat, recovery of dead workers' jobs, promotion of due retries."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

import orjson

from app.config import Settings
from app.connection.errors import RETRY_LATER
from app.metrics import Metrics
from app.queue.replies import Requeued
from app.queue.transitions import Transitions
from app.worker.outage import Link, Outage

log = logging.getLogger(__name__)

# How often due retries are moved to the queue: the most a retry waits past its time.
PROMOTE_EVERY_S = 0.25


class Upkeep:
    """Beats every HEARTBEAT seconds (registering the worker), recovers the jobs of workers
    whose heartbeat lapsed, and promotes due retries, in one loop that rides out outages."""

    def __init__(
        self, worker_id: str, transitions: Transitions, settings: Settings, link: Link, metrics: Metrics
    ) -> None:
        self.worker_id = worker_id
        self._transitions = transitions
        self._settings = settings
        self._link = link
        self._metrics = metrics
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
        self._beaten_at = time.monotonic()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until `stopping` is set (a flag, as well as a cancellation: redis-py can swallow one)."""
        outage = Outage("upkeep")
        beat_every_s = self._settings.heartbeat_s
        next_beat = 0.0
        while not stopping.is_set():
            try:
                now = time.monotonic()
                if now >= next_beat:  # an outage is this loop's own to ride out, with the rest of upkeep
                    await self.beat()
                    await self._recover_orphans()
                    next_beat = now + beat_every_s
                await self._transitions.promote_due()
            except RETRY_LATER as exc:
                await outage.hit(exc)
                self._link.lost()
                continue
            outage.clear()
            await asyncio.sleep(min(PROMOTE_EVERY_S, beat_every_s))

    async def _recover_orphans(self) -> None:
        # After an outage every heartbeat may have lapsed at once; give live workers
        # a full heartbeat TTL to beat again before calling anyone dead.
        if time.monotonic() - self._link.reachable_since < self._settings.heartbeat_ttl_s:
            return
        for worker_id in await self._transitions.orphaned_workers(self.worker_id):
            moved = await self._transitions.requeue(worker_id, orphan=True)
            if moved > 0:
                self._metrics.recovered.inc(moved)
            if moved != Requeued.WORKER_ALIVE:
                log.warning("recovered jobs of a dead worker", extra={"dead_worker": worker_id, "jobs": moved})
