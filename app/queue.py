"""Every Redis transition of a job, each one atomic (a Lua script in app/lua/)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from app.protocol import Keys, Message, PoisonMessage, dead_entry, decode_message, decode_record

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript


class QueueFull(Exception):
    """The queue holds MAX_QUEUE_LENGTH messages; the job was not accepted."""


class JobExists(Exception):
    """A job with this id was already accepted; it was not pushed again."""


@dataclass(frozen=True, slots=True)
class Reserved:
    """A message a worker holds: `raw` is exactly what sits in its processing list."""

    raw: bytes
    message: Message
    attempt: int


def _load(name: str) -> str:
    return resources.files("app.lua").joinpath(f"{name}.lua").read_text()


class JobQueue:
    """One queue's transitions over one redis client. Holds no job state itself."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, *, result_ttl_s: int, blocking_move: bool = True) -> None:
        self.redis = redis
        self.keys = keys
        self.result_ttl_s = result_ttl_s
        # fakeredis's BLMOVE returns at once on an empty list; its BRPOPLPUSH (the
        # same move, RIGHT to LEFT) blocks, so the embedded broker uses that.
        self._blocking_move = blocking_move
        self._enqueue = self._script("enqueue")
        self._reserve = self._script("reserve")
        self._start = self._script("start")
        self._complete = self._script("complete")
        self._fail = self._script("fail")
        self._bury = self._script("bury")

    def _script(self, name: str) -> AsyncScript:
        return self.redis.register_script(_load(name))

    async def enqueue(self, message: Message, *, max_length: int = 0) -> None:
        """Write the record and push the message in one round trip.
        Raises QueueFull or JobExists, having written nothing."""
        code = await self._enqueue(
            keys=[self.keys.queue, self.keys.job(message.id)],
            args=[message.encode(), message.enqueued_at, len(message.text), max_length],
        )
        if code == -1:
            raise QueueFull(self.keys.queue)
        if code == 0:
            raise JobExists(message.id)

    async def reserve(self, worker_id: str, most: int, block_s: float) -> list[bytes]:
        """Take up to `most` messages into the worker's processing list: all that a
        backlog offers in one round trip, else block up to `block_s` for the next one."""
        processing = self.keys.processing(worker_id)
        taken: list[bytes] = await self._reserve(keys=[self.keys.queue, processing], args=[most])
        if taken or block_s <= 0:
            return taken
        if self._blocking_move:
            raw = await self.redis.blmove(self.keys.queue, processing, block_s, "RIGHT", "LEFT")
        else:
            raw = await self.redis.brpoplpush(self.keys.queue, processing, max(1, round(block_s)))
        return [raw] if raw is not None else []

    async def start(self, worker_id: str, raws: list[bytes]) -> list[Reserved]:
        """Mark reserved messages running (one round trip for the batch). Poison
        messages go to the dead list, redeliveries of finished jobs are released;
        neither is returned."""
        processing, now = self.keys.processing(worker_id), time.time()
        pipe = self.redis.pipeline(transaction=False)
        held: list[tuple[bytes, Message] | None] = []
        for raw in raws:
            try:
                message, completed = decode_message(raw)
            except PoisonMessage as exc:
                held.append(None)
                await self._bury(keys=[processing, self.keys.dead], args=[raw, dead_entry(raw, str(exc))], client=pipe)
                continue
            replacement = message.encode() if completed else b""
            held.append((replacement or raw, message))
            args = [raw, replacement, now, worker_id, message.enqueued_at, len(message.text)]
            await self._start(keys=[processing, self.keys.job(message.id)], args=args, client=pipe)
        results = await pipe.execute()
        return [
            Reserved(raw=entry[0], message=entry[1], attempt=int(attempt))
            for entry, attempt in zip(held, results, strict=True)
            if entry is not None and attempt
        ]

    async def complete(self, worker_id: str, job: Reserved, summary: str, model: str, event: bytes) -> bool:
        """running -> done, released and announced at once. False if it was already final."""
        code = await self._complete(
            keys=[self.keys.processing(worker_id), self.keys.job(job.message.id)],
            args=[job.raw, summary, model, time.time(), self.result_ttl_s, self.keys.channel, event],
        )
        return code == 1

    async def fail(self, worker_id: str, job: Reserved, error: str, event: bytes) -> bool:
        """running -> failed, dead-lettered and announced at once. False if it was already final."""
        code = await self._fail(
            keys=[self.keys.processing(worker_id), self.keys.job(job.message.id), self.keys.dead],
            args=[
                job.raw,
                error,
                time.time(),
                self.result_ttl_s,
                self.keys.channel,
                event,
                dead_entry(job.raw, error, job.message.id),
            ],
        )
        return code == 1

    async def get_job(self, job_id: str) -> dict[str, object] | None:
        """The job record, or None for an unknown (or expired) id."""
        fields = await self.redis.hgetall(self.keys.job(job_id))
        return decode_record(job_id, fields) if fields else None
