"""The last hour at a glance, a point a minute, for the dashboard's charts: jobs done and failed
(from the queue's totals, which every replica reads alike), jobs waiting (sampled), and how long
the jobs that ended that minute took from enqueue to end (from the result events this process
hears, which every replica hears alike). Kept in memory: a restarted API starts a new hour."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

MINUTES = 60
# Latencies kept a minute, a uniform sample of them past this (Vitter's algorithm R).
SAMPLES_A_MINUTE = 1000


@dataclass
class _Minute:
    done: int | None = None  # the totals' counts at the minute's last sample
    failed: int | None = None
    first_done: int | None = None  # and at its first: the base when the minute before has none
    first_failed: int | None = None
    queued: int = 0  # the most waiting at any sample of the minute
    latencies: list[float] = field(default_factory=list)
    seen: int = 0  # latencies observed (more than kept past SAMPLES_A_MINUTE)


class Trends:
    def __init__(self, minutes: int = MINUTES) -> None:
        self._minutes = minutes
        self._by_minute: dict[int, _Minute] = {}

    def sample(self, now: float, totals: dict[str, int], queued: int) -> None:
        """The queue's totals and how many jobs wait, at `now` (unix seconds)."""
        minute = self._minute(now)
        minute.done, minute.failed = totals.get("done", 0), totals.get("failed", 0)
        if minute.first_done is None:
            minute.first_done, minute.first_failed = minute.done, minute.failed
        minute.queued = max(minute.queued, queued)

    def observe(self, now: float, event: dict[str, object]) -> None:
        """A result event: a job that ended, with `queued_s` and `run_s` when it ran."""
        queued_s, run_s = event.get("queued_s"), event.get("run_s")
        if not isinstance(queued_s, (int, float)) or not isinstance(run_s, (int, float)):
            return
        minute = self._minute(now)
        minute.seen += 1
        if len(minute.latencies) < SAMPLES_A_MINUTE:
            minute.latencies.append(queued_s + run_s)
        elif (slot := random.randrange(minute.seen)) < SAMPLES_A_MINUTE:
            minute.latencies[slot] = queued_s + run_s

    def points(self, now: float) -> list[dict[str, object]]:
        """A point per minute of the last hour, oldest first; a minute with no sample has none."""
        points, before = [], None
        for index in sorted(self._by_minute):
            minute = self._by_minute[index]
            point: dict[str, object] = {"t": index * 60, "queued": minute.queued}
            if minute.done is not None:  # counted from the minute before, else from this one's first sample
                base = before if before is not None and before.done is not None else None
                done_0 = base.done if base is not None else minute.first_done
                failed_0 = base.failed if base is not None else minute.first_failed
                point["done"] = max(0, minute.done - (done_0 or 0))
                point["failed"] = max(0, (minute.failed or 0) - (failed_0 or 0))
            if minute.latencies:
                ordered = sorted(minute.latencies)
                point["p50_s"] = round(ordered[len(ordered) // 2], 4)
                point["p95_s"] = round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 4)
            points.append(point)
            before = minute if minute.done is not None else before
        return points

    def _minute(self, now: float) -> _Minute:
        index = int(now // 60)
        minute = self._by_minute.get(index)
        if minute is None:
            minute = self._by_minute[index] = _Minute()
            for old in [i for i in self._by_minute if i <= index - self._minutes]:
                del self._by_minute[old]
        return minute


TRENDS = web.AppKey("trends", Trends)


def observer(trends: Trends) -> Callable[[dict[str, object]], None]:
    """A result hub's `on_event` that feeds `trends`, stamped with the time it was heard."""
    return lambda event: trends.observe(time.time(), event)
