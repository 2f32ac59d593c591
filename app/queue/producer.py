"""Putting jobs on the queue: what the API, the CLI and any producer in Python use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from app.queue.contract import UNFINISHED_RECORD_TTL_S, Message
from app.queue.pipes import execute
from app.queue.replies import Enqueued

if TYPE_CHECKING:
    from app.queue.store import Queue


class QueueFull(Exception):
    """The queue holds MAX_QUEUE_LENGTH messages; the job was not accepted."""


class JobExists(Exception):
    """A job with this id was already accepted; it was not pushed again."""


class DuplicateRequest(Exception):
    """The idempotency key was used before: `job_id` is the job it made."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


Refused = QueueFull | JobExists | DuplicateRequest


@dataclass(frozen=True, slots=True)
class Enqueue:
    """One job for `enqueue_many`, with its queue limit and idempotency key."""

    message: Message
    max_length: int = 0
    key: str | None = None


def refusal(message: Message, reply: list[object]) -> Refused | None:
    """enqueue.lua's reply as the reason the job was refused, or None when it was queued."""
    code, job_id = reply
    if code == Enqueued.FULL:
        return QueueFull(message.id)
    if code == Enqueued.EXISTS:
        return JobExists(message.id)
    if code == Enqueued.KEY_USED:
        assert isinstance(job_id, bytes)
        return DuplicateRequest(job_id.decode())
    return None


class Producer:
    """Enqueues jobs: each one atomic (enqueue.lua), many in one round trip."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._keys = queue.keys
        self._enqueue = queue.script("enqueue")

    async def enqueue(self, message: Message, *, max_length: int = 0, idempotency_key: str | None = None) -> None:
        """Write the record and push the message in one round trip. Raises QueueFull,
        JobExists or DuplicateRequest (with the earlier job's id), having written nothing."""
        [refused] = await self.enqueue_many([Enqueue(message, max_length, idempotency_key)])
        if refused is not None:
            raise refused

    async def enqueue_many(self, batch: list[Enqueue]) -> list[Refused | None]:
        """Enqueue many jobs in one round trip, each its own atomic script; returns,
        per job, None or the exception `enqueue` would have raised."""
        pipe = self._queue.redis.pipeline(transaction=False)
        for item in batch:
            await self.enqueue_into(pipe, item.message, max_length=item.max_length, idempotency_key=item.key)
        replies = await execute(pipe)
        return [refusal(item.message, reply) for item, reply in zip(batch, replies, strict=True)]  # type: ignore[arg-type]

    async def enqueue_into(
        self,
        pipe: aioredis.client.Pipeline,
        message: Message,
        *,
        max_length: int = 0,
        idempotency_key: str | None = None,
    ) -> None:
        """Add an enqueue to `pipe`, for a producer sending many jobs in one round trip.
        Each job is still its own atomic script; the caller executes the pipeline (and
        reads each reply with `refusal`)."""
        keys = [self._keys.queue, self._keys.job(message.id), self._keys.totals, self._keys.recent]
        if idempotency_key is not None:
            keys.append(self._keys.idempotency(idempotency_key))
        args = [message.encode(), message.enqueued_at, len(message.text), max_length, message.id]
        args += (self._queue.result_ttl_s, UNFINISHED_RECORD_TTL_S)
        await self._enqueue(keys=keys, args=args, client=pipe)
