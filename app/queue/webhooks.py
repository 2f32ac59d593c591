"""The webhook outbox: deliveries due, being made, given up; each move one script
(app/queue/lua/webhook_*.lua). The endings schedule them (includes/webhook.lua)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from app.queue.pipes import execute
from app.queue.record import decode_record

if TYPE_CHECKING:
    from app.queue.store import Queue


class Settled(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker makes now: the job and which attempt this is (1 for the first)."""

    job_id: str
    attempt: int


class Outbox:
    def __init__(self, queue: Queue) -> None:
        self._redis, self._keys = queue.redis, queue.keys
        self._claim, self._settle = queue.script("webhook_claim"), queue.script("webhook_settle")
        self._resend = queue.script("webhook_resend")

    async def claim(self, lease_s: float, most: int) -> list[Claimed]:
        """The deliveries due now, each held `lease_s` (then due again: a killed deliverer's are retaken)."""
        keys = self._keys
        flat = await self._claim(
            keys=[keys.webhooks, keys.webhooks_dead], args=[time.time(), lease_s, most, keys.job("")]
        )
        return [Claimed(job_id.decode(), int(attempt)) for job_id, attempt in zip(flat[::2], flat[1::2], strict=True)]

    async def record(self, job_id: str) -> dict[str, object] | None:
        """The job's record as GET /jobs/{id} shows it: the body of its delivery."""
        fields = await self._redis.hgetall(self._keys.job(job_id))
        return decode_record(job_id, fields) if fields else None

    async def settle(self, job_id: str, outcome: Settled, next_at: float = 0.0, error: str = "") -> None:
        keys = self._keys
        await self._settle(
            keys=[keys.webhooks, keys.webhooks_dead, keys.job(job_id)],
            args=[job_id, outcome.value, time.time(), next_at, error],
        )

    async def resend(self, job_id: str) -> int:
        """A dead delivery due again now: 1; not dead: 0; its record gone: -1."""
        keys = self._keys
        reply = await self._resend(
            keys=[keys.webhooks, keys.webhooks_dead, keys.job(job_id)], args=[job_id, time.time()]
        )
        return int(reply)

    async def dead(self, most: int = 100) -> list[str]:
        """The newest dead deliveries' job ids."""
        return [raw.decode() for raw in await self._redis.zrevrange(self._keys.webhooks_dead, 0, most - 1)]

    async def counts(self) -> tuple[int, int]:
        """Deliveries pending (due or being made) and dead."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(self._keys.webhooks)
        pipe.zcard(self._keys.webhooks_dead)
        pending, dead = await execute(pipe)
        return int(pending), int(dead)
