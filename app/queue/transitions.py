"""The worker's transitions of a job, each one atomic (a Lua script in app/queue/lua/)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Container
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

import redis.asyncio as aioredis

from app.queue.contract import DEFAULT_TENANT, LOW_SHARE_EVERY, WAKE, Keys
from app.queue.message import Message, PoisonMessage, dead_entry, decode_message
from app.queue.pipes import execute
from app.queue.producer import ONE_DAY_S, utc_day
from app.queue.record import (
    EXPIRED_ERROR,
    STREAM_CAP,
    UNFINISHED_RECORD_TTL_S,
    Outcome,
    Timing,
    expired_event,
    failed_event,
)
from app.queue.replies import Ended, Moved, Started

log = logging.getLogger(__name__)

T = TypeVar("T")

if TYPE_CHECKING:
    from app.queue.store import Queue

# A day's spent-tokens counter outlives its day, for the budget check near midnight.
SPENT_TTL_S = 2 * 86_400
# Blocking reads wait at most this long, well below the socket timeout (redis-py
# treats a read that outlives socket_timeout as a dead connection). Short, because a
# stopping worker lets its blocking read end rather than cancel it (app/worker/runner.py):
# an idle worker then stops within this, at the cost of two idle reads a second.
BLOCK_S = 0.5


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message in a worker's processing list, decoded but not started: `message` None
    means poison (`poison` says why); `replacement` is the completed form of a foreign
    message, to hold instead of `raw`."""

    raw: bytes
    message: Message | None
    poison: str
    replacement: bytes = b""
    oversized: bool = False  # poison by its size: only its head goes to the dead list
    job_id: str | None = None  # poison whose id is known (a duplicate, a bad record key)


@dataclass(frozen=True, slots=True)
class RunningJob:
    """A job this worker started: `raw` is exactly what sits in its processing list."""

    raw: bytes
    message: Message
    attempt: int
    stream: bool = False  # someone follows it (or it asked): its summary is streamed as it is written
    budget_spent: bool = False  # its tenant's daily budget is spent: it fails without a model call


@dataclass(frozen=True, slots=True)
class Completion:
    """A job that ended done, with what it records and when."""

    job: RunningJob
    outcome: Outcome
    timing: Timing


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of a job's summary as the model writes it."""

    job_id: str
    attempt: int
    text: str


class Transitions:
    """Reserve, start, end (done, failed, retried), bury, progress, heartbeat and recovery."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._redis = queue.redis
        self._keys = queue.keys
        self._reserve, self._start, self._bury = queue.script("reserve"), queue.script("start"), queue.script("bury")
        self._complete, self._fail, self._retry = queue.script("complete"), queue.script("fail"), queue.script("retry")
        self._progress, self._promote_due = queue.script("progress"), queue.script("promote_due")
        self._requeue = queue.script("requeue")

    @property
    def redis(self) -> aioredis.Redis:
        """The queue's client, for the worker's own subscriptions (its cancel listener)."""
        return self._redis

    @property
    def keys(self) -> Keys:
        return self._keys

    def _tenant_slots(self, tenants: list[str], day: str | None = None) -> tuple[list[str], list[int]]:
        """The keys of the distinct tenants of a batch (each tenant's hash, and with `day` the
        tokens and the cost its jobs spent that day), and each item's 1-based index among those
        tenants: a batch of one tenant's jobs, the usual case, costs one key (or three), not one per job."""
        order: dict[str, int] = {}
        slot = [order.setdefault(tenant, len(order) + 1) for tenant in tenants]
        keys: list[str] = []
        for tenant in order:
            keys.append(self._keys.tenant(tenant))
            if day:
                keys += (self._keys.spent(tenant, day), self._keys.spent_cost(tenant, day))
        return keys, slot

    def _dead_args(self) -> tuple[float, int, int]:
        retention = self._queue.retention
        return time.time(), retention.dead_max, retention.dead_ttl_s

    async def reserve(self, worker_id: str, most: int, block_s: float) -> list[bytes]:
        """Take up to `most` messages into the worker's processing list: all that a
        backlog offers in one round trip, else block up to `block_s` for the next one."""
        taken = await self._take(worker_id, most, woken=False)
        if taken or block_s <= 0:
            return taken
        keys, processing = self._keys, self._keys.processing(worker_id)
        # Blocks on the queue list alone: a job put in any other lane pushes a wake token there.
        if self._queue.blocking_move:
            raw = await self._redis.blmove(keys.queue, processing, block_s, "RIGHT", "LEFT")
        else:
            raw = await self._redis.brpoplpush(keys.queue, processing, max(1, round(block_s)))
        if raw == WAKE:
            return await self._take(worker_id, most, woken=True)
        return [raw] if raw is not None else []

    async def _take(self, worker_id: str, most: int, *, woken: bool) -> list[bytes]:
        """reserve.lua: the most urgent messages waiting, fairly between tenants."""
        keys = self._keys
        script_keys = [keys.queue, keys.processing(worker_id), *keys.rings, keys.weights, keys.schedule]
        args = [most, keys.lane_prefix, DEFAULT_TENANT, WAKE, LOW_SHARE_EVERY, "1" if woken else "0"]
        taken: list[bytes] = await self._reserve(keys=script_keys, args=args)
        return taken

    def prepare(self, raws: list[bytes]) -> list[HeldMessage]:
        """Decode reserved messages once (a foreign message's new id must survive a
        retried `start`), holding each to the API's limits. Pure: no Redis."""
        held, most_bytes = [], self._queue.max_message_bytes
        for raw in raws:
            if len(raw) > most_bytes:
                reason = f"message too big: {len(raw)} bytes; the limit is {most_bytes} (MAX_TEXT_CHARS)"
                held.append(HeldMessage(raw, None, reason, oversized=True))
                continue
            try:
                message, completed = decode_message(raw, self._queue.max_text_chars)
            except PoisonMessage as exc:
                held.append(HeldMessage(raw, None, str(exc), oversized=exc.oversized))
                continue
            held.append(HeldMessage(raw, message, "", message.encode() if completed else b""))
        return held

    async def start(self, worker_id: str, batch: list[HeldMessage]) -> list[RunningJob]:
        """Mark prepared messages running, in one round trip for the batch. Poison and
        duplicates (an id twice in the batch, or already running on another worker) go to
        the dead list with the reason, and redeliveries of finished jobs are released; none
        is returned, and none holds up the rest of the batch. Safe to call again with the
        same batch after a dropped connection. A worker that starts several batches at
        once marks the ids it runs with `mark_duplicates` first: to start.lua, "running
        here" is a retry."""
        batch = mark_duplicates(batch, ())
        processing = self._keys.processing(worker_id)
        runnable = [item for item in batch if item.message is not None]
        poison = [item for item in batch if item.message is None]
        if poison or not runnable:
            pipe = self._redis.pipeline(transaction=False)
            await self._bury_into(pipe, processing, poison)
            if runnable:
                await self._start(*self._start_call(worker_id, runnable), client=pipe)
            results = await execute(pipe)
            replies, streams, spent = results[-1] if runnable else ([], [], [])  # type: ignore[misc]
        else:  # the usual batch: the script alone, no pipeline around it
            replies, streams, spent = await self._start(*self._start_call(worker_id, runnable))
        started, refused = self._sort_started(runnable, replies, streams, spent)
        if refused:  # found by the script: a second round trip, only for such a batch
            pipe = self._redis.pipeline(transaction=False)
            await self._bury_into(pipe, processing, refused)
            await execute(pipe)
        return started

    def _start_call(self, worker_id: str, runnable: list[HeldMessage]) -> tuple[list[str], list[object]]:
        """start.lua's keys and args for the batch; a job past its expiry (by this clock) ends `expired` there."""
        keys, now = self._keys, time.time()
        messages = [item.message for item in runnable if item.message is not None]
        tenant_keys, slot = self._tenant_slots([message.tenant for message in messages], utc_day(int(now // ONE_DAY_S)))
        script_keys = [keys.processing(worker_id), keys.tenants, keys.totals, *(keys.job(m.id) for m in messages)]
        args = [now, worker_id, UNFINISHED_RECORD_TTL_S, len(messages), DEFAULT_TENANT]
        args += (self._queue.result_ttl_s, keys.channel, EXPIRED_ERROR)
        for item, message, index in zip(runnable, messages, slot, strict=True):
            expired = expired_event(message, now) if message.expired(now) else b""
            args += (item.raw, item.replacement, message.enqueued_at, len(message.text), message.tenant, index, expired)
            args += (message.meta, "" if message.stream else keys.listen(message.id))
        return [*script_keys, *tenant_keys, keys.webhooks], args

    def _sort_started(
        self, runnable: list[HeldMessage], replies: list[int | bytes], streams: list[int], spent: list[int]
    ) -> tuple[list[RunningJob], list[HeldMessage]]:
        """start.lua's replies as the jobs that run, and the messages to bury instead."""
        started, refused = [], []
        for item, reply, stream, broke in zip(runnable, replies, streams, spent, strict=True):
            message = item.message
            assert message is not None
            if isinstance(reply, bytes):
                key = self._keys.job(message.id)
                reason = f"its record key {key} holds a {reply.decode()}, not a job hash: the message was not run"
                refused.append(HeldMessage(item.raw, None, reason, job_id=message.id))
            elif reply == Started.RUNNING_ELSEWHERE:
                reason = f"duplicate id {message.id!r}: that job is already running on another worker"
                refused.append(HeldMessage(item.raw, None, reason, job_id=message.id))
            elif reply not in (Started.ALREADY_FINAL, Started.EXPIRED, Started.NOT_HELD):
                raw = item.replacement or item.raw
                job = RunningJob(
                    raw=raw, message=message, attempt=int(reply), stream=stream == 1, budget_spent=broke == 1
                )
                started.append(job)
        return started, refused

    async def start_each(
        self, worker_id: str, batch: list[HeldMessage], write: Callable[[Callable[[], Awaitable[T]]], Awaitable[T]]
    ) -> list[RunningJob]:
        """Start a batch that failed as a whole message by message (each through `write`: the
        worker's rides out an outage): the one that fails goes to the dead list with its error
        (or, if even that fails, stays held and is logged). One bad message never holds the rest."""
        jobs: list[RunningJob] = []
        for item in batch:
            try:
                jobs += await write(lambda item=item: self.start(worker_id, [item]))  # type: ignore[misc]
            except Exception as exc:
                job_id = item.message.id if item.message is not None else None
                try:
                    await self.bury(worker_id, item, f"could not be started: {type(exc).__name__}: {exc}")
                except Exception:
                    log.exception("message could not be started nor buried; it stays held", extra={"job_id": job_id})
        return jobs

    async def bury(self, worker_id: str, item: HeldMessage, reason: str) -> bool:
        """A held message to the dead list with `reason`, for one the worker cannot start."""
        job_id = item.message.id if item.message is not None else item.job_id
        pipe = self._redis.pipeline(transaction=False)
        await self._bury_into(pipe, self._keys.processing(worker_id), [replace(item, poison=reason, job_id=job_id)])
        [buried] = await execute(pipe)
        return buried == Moved.MOVED

    async def _bury_into(self, pipe: aioredis.client.Pipeline, processing: str, poison: list[HeldMessage]) -> None:
        keys = [processing, self._keys.dead]
        for item in poison:
            entry = dead_entry(item.raw, item.poison, item.job_id, head_only=item.oversized)
            await self._bury(keys=keys, args=[item.raw, entry, *self._dead_args()], client=pipe)

    async def complete_many(self, worker_id: str, batch: list[Completion]) -> list[Ended]:
        """running -> done for a batch, in one round trip, each job released, recorded,
        counted and announced at once. Returns per job whether it became done (ENDED), was
        already final, or was TAKEN from this worker (recovered and started elsewhere)."""
        now = time.time()
        day = utc_day(int(now // ONE_DAY_S))
        tenant_keys, slot = self._tenant_slots([item.job.message.tenant for item in batch], day)
        keys = [self._keys.processing(worker_id), self._keys.totals]
        args: list[object] = [now, self._queue.result_ttl_s, self._keys.channel, len(batch), SPENT_TTL_S, worker_id]
        for item, index in zip(batch, slot, strict=True):
            job_id, outcome = item.job.message.id, item.outcome
            fields, usage = outcome.record_fields(), outcome.usage()
            keys += (self._keys.job(job_id), self._keys.stream(job_id))
            args += (item.job.raw, outcome.event(job_id, item.timing, item.job.message.meta), index, outcome.tokens)
            args.append(outcome.cost_usd or 0)
            args += (len(fields) // 2, len(usage) // 2, *fields, *usage)
        keys += (*tenant_keys, self._keys.webhooks)
        return [Ended(code) for code in await self._complete(keys=keys, args=args)]

    async def fail(self, worker_id: str, job: RunningJob, error: str, timing: Timing) -> bool:
        """running -> failed, dead-lettered and announced at once. False if it was already final."""
        job_id, keys = job.message.id, self._keys
        now, dead_max, dead_ttl_s = self._dead_args()
        event, entry = failed_event(job_id, error, timing, job.message.meta), dead_entry(job.raw, error, job_id)
        tenant = keys.tenant(job.message.tenant)
        code = await self._fail(
            keys=[
                keys.processing(worker_id),
                keys.job(job_id),
                keys.dead,
                keys.totals,
                keys.stream(job_id),
                tenant,
                keys.webhooks,
            ],
            args=[
                job.raw,
                error,
                now,
                self._queue.result_ttl_s,
                keys.channel,
                event,
                entry,
                dead_max,
                dead_ttl_s,
                worker_id,
            ],
        )
        return code == Ended.ENDED

    async def retry(
        self, worker_id: str, job: RunningJob, error: str, delay_s: float, *, requeue_as: bytes = b""
    ) -> bool:
        """running -> queued in `delay_s`, the error recorded. False if it was already final.
        The message runs again as it is held (the same bytes, options and all), or as
        `requeue_as` (a batch job sent back to run interactively)."""
        keys = [self._keys.processing(worker_id), self._keys.job(job.message.id), self._keys.delayed, self._keys.totals]
        keys.append(self._keys.tenant(job.message.tenant))
        code = await self._retry(keys=keys, args=[job.raw, requeue_as or job.raw, time.time() + delay_s, error])
        return code == Ended.ENDED

    async def add_progress_many(self, batch: list[Delta]) -> list[None]:
        """Append pieces of summaries to their jobs' streams, in one round trip, and wake
        the listeners of those jobs."""
        keys, args = [], [STREAM_CAP, self._queue.result_ttl_s, self._keys.progress_channel]
        for delta in batch:
            keys.append(self._keys.stream(delta.job_id))
            args += (delta.job_id, delta.attempt, delta.text)
        await self._progress(keys=keys, args=args)
        return [None] * len(batch)

    async def promote_due(self, most: int = 1000) -> int:
        """Move retries whose time has come to the front of the queue; returns how many."""
        keys = self._keys
        args = [time.time(), most, keys.lane_prefix, DEFAULT_TENANT, WAKE]
        return int(await self._promote_due(keys=[keys.delayed, keys.queue, *keys.rings], args=args))

    async def requeue(self, worker_id: str, *, orphan: bool, only: list[bytes] | None = None) -> int:
        """Put a worker's held messages back at the front of the queue: its own at
        shutdown, a dead worker's (`orphan`: only while it has no heartbeat), or `only` these
        strays of a live worker (held by none of its jobs). Returns how many moved, or
        Requeued.WORKER_ALIVE if the orphan turned out to be alive."""
        keys = self._keys
        processing = keys.processing(worker_id)
        held = only if only is not None else await self.held(worker_id)
        messages = [self._readable(raw) for raw in held]
        tenant_keys, slot = self._tenant_slots([m.tenant for m in messages if m is not None])
        slots = iter(slot)
        mode = "orphan" if orphan else "own" if only is None else "stray"
        args: list[object] = [worker_id, mode, len(held), keys.lane_prefix, WAKE]
        job_keys = []
        for raw, message in zip(held, messages, strict=True):
            # A completed foreign message (no id of its own) has no record under any id yet.
            job_keys.append(processing if message is None else keys.job(message.id))
            if message is None or keys.lane(*message.lane) == keys.queue:
                args += (raw, 0 if message is None else next(slots), "", "")
            else:
                args += (raw, next(slots), message.priority.value, message.tenant)
        script_keys = [keys.queue, processing, keys.heartbeat(worker_id), keys.workers, keys.totals, *keys.rings]
        return int(await self._requeue(keys=[*script_keys, *job_keys, *tenant_keys], args=args))

    async def held(self, worker_id: str) -> list[bytes]:
        """What the worker's processing list holds now."""
        held: list[bytes] = await self._redis.lrange(self._keys.processing(worker_id), 0, -1)
        return held

    def job_id_of(self, raw: bytes) -> str | None:
        """The id of the job a held message is, if it names one."""
        message = self._readable(raw)
        return message.id if message is not None else None

    @staticmethod
    def _readable(raw: bytes) -> Message | None:
        """The message held, if it names its job (else requeue moves it and touches no record)."""
        try:
            message, completed = decode_message(raw)
        except PoisonMessage:
            return None
        return None if completed else message

    async def beat(self, worker_id: str, ttl_s: float, info: bytes) -> None:
        """Register the worker and refresh its heartbeat, in one MULTI."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(self._keys.workers, worker_id)
        pipe.set(self._keys.heartbeat(worker_id), info, px=max(1, round(ttl_s * 1000)))
        await execute(pipe)

    async def orphaned_workers(self, me: str) -> list[str]:
        """Registered workers other than `me` whose heartbeat has expired."""
        others = sorted(m.decode() for m in await self._redis.smembers(self._keys.workers) if m.decode() != me)
        if not others:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for worker_id in others:
            pipe.exists(self._keys.heartbeat(worker_id))
        alive = await execute(pipe)
        return [worker_id for worker_id, beating in zip(others, alive, strict=True) if not beating]


def mark_duplicates(batch: list[HeldMessage], running: Container[str]) -> list[HeldMessage]:
    """The batch with each later message of an id seen earlier in it, or of a job
    already `running` here, turned into poison: two messages of one job never both run."""
    seen: set[str] = set()
    kept = []
    for item in batch:
        message = item.message
        if message is not None and (message.id in seen or message.id in running):
            reason = f"duplicate id {message.id!r}: that job is already running on this worker"
            item = HeldMessage(item.raw, None, reason, job_id=message.id)
        elif message is not None:
            seen.add(message.id)
        kept.append(item)
    return kept
