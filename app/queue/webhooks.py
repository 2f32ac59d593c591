"""The webhook outbox: deliveries due, being made, given up; each move one script
(app/queue/lua/webhook_*.lua). The endings schedule them (includes/webhook.lua)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

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
        """The deliveries due now (by Redis's clock), each held `lease_s` (then due again: a killed
        deliverer's are retaken). A Claimed with attempt 0 went dead: its job record is gone."""
        keys = self._keys
        flat = await self._claim(keys=[keys.webhooks, keys.webhooks_dead], args=[lease_s, most, keys.job("")])
        return [Claimed(job_id.decode(), int(attempt)) for job_id, attempt in zip(flat[::2], flat[1::2], strict=True)]

    async def settle(
        self, claimed: Claimed, outcome: Settled, *, delay_s: float = 0.0, error: str = "", lease_s: float = 0.0
    ) -> bool:
        """Write an attempt's outcome; False when it was stale (another claim took over, or the record
        is gone): then nothing was written."""
        keys = self._keys
        written = await self._settle(
            keys=[keys.webhooks, keys.webhooks_dead, keys.job(claimed.job_id)],
            args=[claimed.job_id, outcome.value, claimed.attempt, delay_s, error, lease_s],
        )
        return bool(written)

    async def resend(self, job_id: str) -> int:
        """A dead delivery due again now: 1; not dead: 0; its record gone: -1."""
        keys = self._keys
        return int(await self._resend(keys=[keys.webhooks, keys.webhooks_dead, keys.job(job_id)], args=[job_id]))

    async def dead(self, most: int = 100) -> list[str]:
        """The newest dead deliveries' job ids."""
        return [raw.decode() for raw in await self._redis.zrevrange(self._keys.webhooks_dead, 0, most - 1)]
