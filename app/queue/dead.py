"""The dead list, for operators: what failed for good, run again or dropped."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

import orjson

from app.queue.contract import DEFAULT_TENANT, WAKE
from app.queue.message import PoisonMessage, decode_message
from app.queue.pipes import execute
from app.queue.record import UNFINISHED_RECORD_TTL_S
from app.queue.replies import Moved

if TYPE_CHECKING:
    from app.queue.store import Queue


class DeadLetters:
    """List, requeue and purge dead-list entries (the CLI's `dead` command)."""

    def __init__(self, queue: Queue) -> None:
        self._redis = queue.redis
        self._keys = queue.keys
        self._requeue_dead = queue.script("requeue_dead")

    async def newest(self, most: int = 100) -> list[dict[str, object]]:
        """The newest `most` dead-list entries, decoded; `raw` is the entry as stored."""
        if most <= 0:  # LRANGE 0 -1 would mean "all"
            return []
        entries = await self._redis.lrange(self._keys.dead, 0, most - 1)
        return [{**orjson.loads(entry), "raw": entry} for entry in entries]

    async def requeue(self, job_id: str | None = None) -> tuple[int, list[str]]:
        """Push dead jobs back as fresh jobs (attempts reset, options kept, no expiry): the one
        with `job_id`, or all. Returns how many were requeued and why any could not be."""
        requeued, problems = 0, []
        for entry in await self._redis.lrange(self._keys.dead, 0, -1):
            data = orjson.loads(entry)
            if job_id is not None and data.get("id") != job_id:
                continue
            problem = await self._requeue_one(entry, data)
            if problem is None:
                requeued += 1
            elif problem:
                problems.append(problem)
        return requeued, problems

    async def _requeue_one(self, entry: bytes, data: dict[str, object]) -> str | None:
        """None when requeued; else why not ("" when someone else took the entry first)."""
        try:
            message, _ = decode_message(str(data.get("message", "")).encode())
        except PoisonMessage as exc:
            return f"entry {data.get('id')!r} cannot run again: {exc}"
        fresh = replace(message, enqueued_at=time.time(), expires_at=0.0)
        k = self._keys
        keys = [k.dead, k.queue, k.job(fresh.id), k.tenant(fresh.tenant), k.lane(*fresh.lane), k.ring(fresh.priority)]
        tenant = "" if fresh.tenant == DEFAULT_TENANT else fresh.tenant
        args = [entry, fresh.encode(), fresh.enqueued_at, len(fresh.text), UNFINISHED_RECORD_TTL_S, tenant]
        args += (fresh.tenant, WAKE, fresh.meta)
        moved = await self._requeue_dead(keys=keys, args=args)
        if moved == Moved.LIVE:
            return f"entry {fresh.id!r} left on the dead list: its job is queued or running (a second message of it)"
        return None if moved == Moved.MOVED else ""

    async def purge(self, job_id: str | None = None) -> int:
        """Drop dead-list entries: the one(s) for `job_id`, or all. Returns how many."""
        if job_id is None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.llen(self._keys.dead)
            pipe.delete(self._keys.dead)
            count, _ = await execute(pipe)
            return int(count)  # type: ignore[call-overload]
        dropped = 0
        for entry in await self._redis.lrange(self._keys.dead, 0, -1):
            if orjson.loads(entry).get("id") == job_id:
                dropped += await self._redis.lrem(self._keys.dead, 1, entry)
        return dropped
