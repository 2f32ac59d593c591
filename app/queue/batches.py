"""The batch lane's Redis side: parked messages by group, the batches in flight, the collector's
lease. A batch's jobs sit in the processing list of the pseudo-worker `batch:<id>`, so they start,
complete, fail and retry through the worker's own scripts (app/queue/transitions.py)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from app.queue.contract import BATCH_WORKER_PREFIX

if TYPE_CHECKING:
    from app.queue.store import Queue
    from app.queue.transitions import HeldMessage


def batch_worker(batch_id: str) -> str:
    """The pseudo-worker whose processing list holds a batch's jobs."""
    return BATCH_WORKER_PREFIX + batch_id


def group_of(model: str, options: dict[str, object]) -> str:
    """Jobs of one model and options share a batch (the request config is per group)."""
    return hashlib.sha256(orjson.dumps([model, options], option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class DueBatch:
    """A batch claimed for one poll: its id and its hash's fields."""

    id: str
    fields: dict[str, str]

    @property
    def state(self) -> str:
        return self.fields.get("state", "")

    @property
    def name(self) -> str:
        return self.fields.get("name", "")

    def number(self, name: str, default: float = 0.0) -> float:
        try:
            return float(self.fields.get(name, default))
        except ValueError:
            return default


class BatchStore:
    def __init__(self, queue: Queue) -> None:
        self._redis, self._keys = queue.redis, queue.keys
        self._park, self._claim = queue.script("batch_park"), queue.script("batch_claim")
        self._due, self._update = queue.script("batch_due"), queue.script("batch_update")
        self._drop, self._lease = queue.script("batch_drop"), queue.script("batch_lease")

    async def park(self, worker_id: str, items: list[HeldMessage], model: str) -> int:
        """batch_park.lua: the worker's batch-mode messages to their groups' waiting lists."""
        keys, args = [self._keys.processing(worker_id), self._keys.batch_groups], [time.time(), len(items)]
        for item in items:
            assert item.message is not None
            group = group_of(model, item.message.options.to_dict())
            keys.append(self._keys.batch_waiting(group))
            args += (item.raw, item.replacement or item.raw, group)
        return int(await self._park(keys=keys, args=args))

    async def lease(self, worker_id: str, ttl_s: float) -> bool:
        """batch_lease.lua: whether this worker is (still) the one collector."""
        return bool(await self._lease(keys=[self._keys.batch_lease], args=[worker_id, max(1, round(ttl_s * 1000))]))

    async def groups_due(self, most_jobs: int, max_wait_s: float) -> list[str]:
        """Groups with `most_jobs` waiting, or whose oldest has waited `max_wait_s`."""
        waiting = await self._redis.zrange(self._keys.batch_groups, 0, -1, withscores=True)
        if not waiting:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for group, _ in waiting:
                pipe.llen(self._keys.batch_waiting(group.decode()))
            lengths = await pipe.execute()
        now = time.time()
        return [
            group.decode()
            for (group, since), length in zip(waiting, lengths, strict=True)
            if length >= most_jobs or (length > 0 and now - since >= max_wait_s)
        ]

    async def claim(self, group: str, batch_id: str, model: str, most: int, most_bytes: int, due_s: float) -> int:
        """batch_claim.lua: the group's oldest messages into a new batch, recorded as `creating`."""
        keys = self._keys
        script_keys = [
            keys.batch_waiting(group),
            keys.batch_groups,
            keys.batches,
            keys.batch(batch_id),
            keys.processing(batch_worker(batch_id)),
        ]
        now = time.time()
        claimed = await self._claim(keys=script_keys, args=[group, most, most_bytes, batch_id, now, now + due_s, model])
        return len(claimed)

    async def due(self, lease_s: float) -> DueBatch | None:
        """batch_due.lua: the next batch due for a poll, claimed for `lease_s`."""
        now = time.time()
        reply = await self._due(keys=[self._keys.batches], args=[now, now + lease_s, self._keys.batch("")])
        if not reply:
            return None
        values = [value.decode("utf-8", "replace") for value in reply]
        return DueBatch(values[0], dict(zip(values[1::2], values[2::2], strict=True)))

    async def update(self, batch_id: str, due_in_s: float, **fields: object) -> bool:
        """batch_update.lua: a batch's new fields and next poll, unless it was dropped meanwhile."""
        args: list[object] = [batch_id, time.time() + due_in_s]
        for name, value in fields.items():
            args += (name, value)
        return bool(await self._update(keys=[self._keys.batches, self._keys.batch(batch_id)], args=args))

    async def drop(self, batch_id: str) -> bool:
        """batch_drop.lua: forget a batch whose list is empty."""
        keys = [self._keys.batches, self._keys.batch(batch_id), self._keys.processing(batch_worker(batch_id))]
        return bool(await self._drop(keys=keys, args=[batch_id]))

    async def numbers(self) -> dict[str, float]:
        """For /stats and /metrics: jobs waiting to be batched, batches in flight, the oldest's age."""
        keys = self._keys
        groups = await self._redis.zrange(keys.batch_groups, 0, -1)
        async with self._redis.pipeline(transaction=False) as pipe:
            for group in groups:
                pipe.llen(keys.batch_waiting(group.decode()))
            pipe.zcard(keys.batches)
            pipe.zrange(keys.batches, 0, -1)
            *lengths, in_flight, ids = await pipe.execute()
        created = []
        if ids:
            async with self._redis.pipeline(transaction=False) as pipe:
                for batch_id in ids:
                    pipe.hget(keys.batch(batch_id.decode()), "created_at")
                created = [float(at) for at in await pipe.execute() if at is not None]
        oldest = round(time.time() - min(created), 1) if created else 0.0
        return {"waiting": sum(lengths), "in_flight": in_flight, "oldest_batch_age_s": oldest}
