"""Putting jobs on the queue, and calling them back: what the API, the CLI and any producer in
Python use."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
import redis.asyncio as aioredis

from app.queue.contract import DEFAULT_TENANT, WAKE
from app.queue.message import Message
from app.queue.pipes import execute
from app.queue.record import CANCELLED_ERROR, UNFINISHED_RECORD_TTL_S, cancelled_event, decode_record
from app.queue.replies import Cancelled, Enqueued

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


class KeyReused(Exception):
    """The idempotency key was used before for another request: `job_id` is the job it made."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


class OverQuota(Exception):
    """The tenant's quota refused the job (nothing written): `kind` says which, `retry_after_ms`
    when it would be admitted."""

    def __init__(self, kind: Enqueued, retry_after_ms: int) -> None:
        super().__init__(kind.name)
        self.kind = kind
        self.retry_after_ms = retry_after_ms


Refused = QueueFull | JobExists | DuplicateRequest | KeyReused | OverQuota
ONE_DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Quota:
    """A tenant's limits at intake, each 0 for none, and its `weight`: its share of free slots
    when several tenants' jobs wait (app/tenants.py reads them from settings)."""

    requests_per_minute: int = 0
    max_active_jobs: int = 0
    daily_tokens: int = 0
    weight: int = 1
    daily_cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class Enqueue:
    """One job for `enqueue_many`: the queue's limit, the idempotency key and what it stands
    for (`fingerprint`), and the quota of the job's tenant."""

    message: Message
    max_length: int = 0
    key: str | None = None
    fingerprint: str = ""
    quota: Quota = Quota()
    callback_url: str = ""  # called when the job ends (checked by the API: app/webhooks/targets.py)


@dataclass(frozen=True, slots=True)
class Admission:
    """What intake answered: None or why the job was refused; the tenant's rate quota after
    it (requests still allowed, -1 when the request was not charged or there is no rate
    limit, and ms until the quota is whole); and for a quota refusal, when to try again."""

    refused: Refused | Exception | None
    left: int = -1
    reset_ms: int = 0
    retry_ms: int = 0


def admission(message: Message, reply: list[object] | Exception) -> Admission:
    """enqueue.lua's reply, read. An error refuses this job alone (Redis full, or a key of
    the wrong type): the others of its batch may have landed."""
    if isinstance(reply, Exception):
        return Admission(reply)
    code, job_id, left, reset_ms, retry_ms = reply
    earlier = job_id.decode() if isinstance(job_id, bytes) else str(job_id)
    refused: Refused | None = None
    if code == Enqueued.FULL:
        refused = QueueFull(message.id)
    elif code == Enqueued.EXISTS:
        refused = JobExists(message.id)
    elif code == Enqueued.KEY_USED:
        refused = DuplicateRequest(earlier)
    elif code == Enqueued.KEY_REUSED:
        refused = KeyReused(earlier)
    elif code != Enqueued.QUEUED:
        refused = OverQuota(Enqueued(code), int(retry_ms))  # type: ignore[call-overload]
    return Admission(refused, int(left), int(reset_ms), int(retry_ms))  # type: ignore[call-overload]


@functools.lru_cache(maxsize=4)
def utc_day(days: int) -> str:
    """YYYY-MM-DD of the UTC day `days` after the epoch (the key of a day's spent tokens)."""
    return time.strftime("%Y-%m-%d", time.gmtime(days * ONE_DAY_S))


class Producer:
    """Enqueues jobs: each one atomic (enqueue.lua), many in one round trip."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._keys = queue.keys
        self._enqueue = queue.script("enqueue")
        self._cancel = queue.script("cancel")

    async def enqueue(self, message: Message, *, max_length: int = 0, idempotency_key: str | None = None) -> None:
        """Write the record and push the message in one round trip. Raises QueueFull,
        JobExists or DuplicateRequest (with the earlier job's id), having written nothing."""
        [admitted] = await self.enqueue_many([Enqueue(message, max_length, idempotency_key)])
        if admitted.refused is not None:
            raise admitted.refused

    async def enqueue_many(self, batch: list[Enqueue]) -> list[Admission]:
        """Enqueue many jobs in one round trip, each its own atomic script; returns,
        per job, whether it was admitted (or the exception `enqueue` would have raised)."""
        pipe = self._queue.redis.pipeline(transaction=False)
        for item in batch:
            await self.enqueue_into(pipe, item)
        replies = await execute(pipe, raise_on_error=False)
        return [admission(item.message, reply) for item, reply in zip(batch, replies, strict=True)]  # type: ignore[arg-type]

    async def enqueue_into(self, pipe: aioredis.client.Pipeline, item: Enqueue | Message) -> None:
        """Add an enqueue to `pipe`, for a producer sending many jobs in one round trip.
        Each job is still its own atomic script; the caller executes the pipeline with
        app.queue.pipes.execute (which loads the script should Redis have lost it) and reads
        each reply with `admission`."""
        item = item if isinstance(item, Enqueue) else Enqueue(item)
        message, keys, tenant = item.message, self._keys, item.message.tenant
        now = time.time()
        day, day_left_ms = utc_day(int(now // ONE_DAY_S)), round((ONE_DAY_S - now % ONE_DAY_S) * 1000)
        script_keys = [keys.queue, keys.job(message.id), keys.totals, keys.recent, keys.tenant(tenant)]
        script_keys += (keys.tenant_recent(tenant), keys.rate(tenant), keys.spent(tenant, day), keys.tenants)
        script_keys += (
            keys.lane(*message.lane),
            keys.ring(message.priority),
            keys.weights,
            keys.spent_cost(tenant, day),
        )
        if item.key is not None:
            script_keys.append(keys.idempotency(tenant, item.key))
        args = [message.encode(), message.enqueued_at, len(message.text), item.max_length, message.id]
        args += (self._queue.result_ttl_s, UNFINISHED_RECORD_TTL_S, "" if tenant == DEFAULT_TENANT else tenant, tenant)
        quota = item.quota
        args += (quota.requests_per_minute, quota.max_active_jobs, quota.daily_tokens, item.fingerprint, day_left_ms)
        args += (WAKE, quota.weight, quota.daily_cost_usd, item.callback_url)
        await self._enqueue(keys=script_keys, args=args, client=pipe)

    async def cancel(self, job_id: str, record: Mapping[str, object]) -> tuple[Cancelled, dict[str, object] | None]:
        """End a queued or running job `cancelled`, as its `record` was read (its tenant, the
        producer's own fields for the event): at once for the record and the event; a running
        job's worker aborts its model call when told. Returns what happened and the record after
        (read in the same script: one round trip)."""
        keys, tenant = self._keys, str(record.get("tenant", DEFAULT_TENANT))
        meta = orjson.dumps(record["meta"]) if "meta" in record else b""
        script_keys = [keys.job(job_id), keys.totals, keys.tenant(tenant), keys.stream(job_id), keys.webhooks]
        args = [time.time(), self._queue.result_ttl_s, keys.channel, cancelled_event(job_id, meta)]
        args += (keys.control_channel, job_id, CANCELLED_ERROR, UNFINISHED_RECORD_TTL_S)
        code, flat = await self._cancel(keys=script_keys, args=args)
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        return Cancelled(code), decode_record(job_id, fields) if fields else None

    async def listen(self, job_id: str, ttl_s: int) -> None:
        """Say that an event stream follows the job: if it starts within `ttl_s`, its model call streams."""
        await self._queue.redis.set(self._keys.listen(job_id), 1, ex=ttl_s)
