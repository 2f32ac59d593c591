"""Messages on a live worker's own processing list that none of its jobs holds.

A reservation (reserve.lua, BLMOVE) whose reply was lost, because the connection dropped after
Redis ran it and redis-py retried and took another batch, leaves messages on the list of a worker
that does not know it has them; so does a job whose ending could not be written for a reason no
outage explains. Recovery never looks at a live worker's list, so without this they would wait
there, queued in their records, until the worker stops. Each sweep notes the messages no job of
this worker holds; one still there at the next sweep (seconds later: a message being started is
claimed within a tick) is put back in the queue (requeue.lua, 'stray').
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.queue.transitions import Transitions

log = logging.getLogger(__name__)

# A sweep every this many heartbeats: a stray waits two sweeps at most.
SWEEP_EVERY_BEATS = 10


class Strays:
    def __init__(self, worker_id: str, transitions: Transitions, holds: Callable[[bytes], bool]) -> None:
        self._worker_id = worker_id
        self._transitions = transitions
        self._holds = holds  # whether a message on the list is one this worker reserved, starts or runs
        self._suspects: set[bytes] = set()

    async def sweep(self) -> int:
        """Requeue the messages that no job held at this sweep nor at the one before; returns how many."""
        held = await self._transitions.held(self._worker_id)
        suspects = {raw for raw in held if not self._holds(raw)}
        strays, self._suspects = suspects & self._suspects, suspects - self._suspects
        if not strays:
            return 0
        in_order = [raw for raw in held if raw in strays]  # newest first, as the list holds them
        moved = await self._transitions.requeue(self._worker_id, orphan=False, only=in_order)
        if moved > 0:
            extra = {"worker_id": self._worker_id, "jobs": moved}
            log.warning("requeued messages held here that no job of this worker runs", extra=extra)
        return moved
