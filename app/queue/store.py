"""Every Redis transition of a job, each one atomic (a Lua script in app/lua/)."""

from __future__ import annotations

import time
from collections.abc import Container
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import orjson
import redis.asyncio as aioredis

from app.config import body_limit
from app.queue import lua
from app.queue.contract import Keys, Message, PoisonMessage, dead_entry, decode_message, decode_record

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from app.config import Settings


class QueueFull(Exception):
    """The queue holds MAX_QUEUE_LENGTH messages; the job was not accepted."""


class JobExists(Exception):
    """A job with this id was already accepted; it was not pushed again."""


class DuplicateRequest(Exception):
    """The idempotency key was used before: `job_id` is the job it made."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


@dataclass(frozen=True, slots=True)
class Reserved:
    """A message a worker holds: `raw` is exactly what sits in its processing list."""

    raw: bytes
    message: Message
    attempt: int


def raise_for_enqueue(message: Message, reply: list[object]) -> None:
    """Map enqueue.lua's reply to its exception (or nothing when queued)."""
    code, job_id = reply
    if code == -1:
        raise QueueFull(message.id)
    if code == 0:
        raise JobExists(message.id)
    if code == 2:
        assert isinstance(job_id, bytes)
        raise DuplicateRequest(job_id.decode())


@dataclass(frozen=True, slots=True)
class Enqueue:
    """One job for `enqueue_many`, with its queue limit and idempotency key."""

    message: Message
    max_length: int = 0
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished job, its record's fields (summary, model, usage; name, value, ...), and
    the event that announces it."""

    job: Reserved
    fields: tuple[str | bytes | int | float, ...]
    event: bytes


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of a job's summary as the model writes it."""

    job_id: str
    attempt: int
    text: str


# The transitions counted in the totals hash, by the scripts that make them.
COUNTS = ("enqueued", "done", "failed", "retried", "recovered")

# Progress streams hold at most about this many pieces; the done event has the whole summary.
STREAM_CAP = 1000
# A record whose job never ends (its message deleted by hand) goes after this long.
UNFINISHED_RECORD_TTL_S = 30 * 86_400


@dataclass(frozen=True, slots=True)
class Taken:
    """A reserved message, decoded: `message` None means poison (`poison` says why);
    `replacement` is the completed form of a foreign message, to hold instead of `raw`."""

    raw: bytes
    message: Message | None
    poison: str
    replacement: bytes = b""
    oversized: bool = False  # poison by its size: only its head goes to the dead list
    job_id: str | None = None  # poison whose id is known (a duplicate, a bad record key)


@dataclass(frozen=True, slots=True)
class Retention:
    """How much of what failed the dead list keeps: DEAD_MAX entries, DEAD_TTL seconds."""

    dead_max: int = 10_000
    dead_ttl_s: int = 7 * 86_400


async def _execute(pipe: aioredis.client.Pipeline) -> list[object]:
    """Run a pipeline and always give its connection back: a pipeline that failed
    (Redis down) otherwise keeps its connection until garbage collection."""
    try:
        return await pipe.execute()
    finally:
        await pipe.reset()


class JobQueue:
    """One queue's transitions over one redis client. Holds no job state itself."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        *,
        result_ttl_s: int,
        blocking_move: bool = True,
        max_text_chars: int = 100_000,
        retention: Retention = Retention(),
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.result_ttl_s = result_ttl_s
        # A consumer holds foreign producers to the API's limits: the text, and the
        # message's size (what a request body of that text may take) before it is parsed.
        self.max_text_chars = max_text_chars
        self.max_message_bytes = body_limit(max_text_chars)
        self.retention = retention
        # fakeredis's BLMOVE returns at once on an empty list; its BRPOPLPUSH (the
        # same move, RIGHT to LEFT) blocks, so the embedded broker uses that.
        self._blocking_move = blocking_move
        self._enqueue = self._script("enqueue")
        self._reserve = self._script("reserve")
        self._start = self._script("start")
        self._complete = self._script("complete")
        self._fail = self._script("fail")
        self._bury = self._script("bury")
        self._retry = self._script("retry")
        self._promote_due = self._script("promote_due")
        self._requeue = self._script("requeue")
        self._requeue_dead = self._script("requeue_dead")
        self._progress = self._script("progress")

    @classmethod
    def from_settings(cls, redis: aioredis.Redis, settings: Settings, *, blocking_move: bool = True) -> JobQueue:
        return cls(
            redis,
            Keys(settings.queue_name, settings.result_channel),
            result_ttl_s=settings.result_ttl_s,
            blocking_move=blocking_move,
            max_text_chars=settings.max_text_chars,
            retention=Retention(settings.dead_max, settings.dead_ttl_s),
        )

    def _script(self, name: str) -> AsyncScript:
        return lua.register(self.redis, name)

    def _dead_args(self) -> tuple[float, int, int]:
        return time.time(), self.retention.dead_max, self.retention.dead_ttl_s

    async def enqueue(self, message: Message, *, max_length: int = 0, idempotency_key: str | None = None) -> None:
        """Write the record and push the message in one round trip. Raises QueueFull,
        JobExists or DuplicateRequest (with the earlier job's id), having written nothing."""
        pipe = self.redis.pipeline(transaction=False)
        await self.enqueue_into(pipe, message, max_length=max_length, idempotency_key=idempotency_key)
        [reply] = await _execute(pipe)
        raise_for_enqueue(message, reply)

    async def enqueue_many(self, batch: list[Enqueue]) -> list[BaseException | None]:
        """Enqueue many jobs in one round trip, each its own atomic script; returns,
        per job, None or the exception `enqueue` would have raised."""
        pipe = self.redis.pipeline(transaction=False)
        for item in batch:
            await self.enqueue_into(pipe, item.message, max_length=item.max_length, idempotency_key=item.key)
        replies = await _execute(pipe)
        outcomes: list[BaseException | None] = []
        for item, reply in zip(batch, replies, strict=True):
            try:
                raise_for_enqueue(item.message, reply)
            except (QueueFull, JobExists, DuplicateRequest) as refused:
                outcomes.append(refused)
            else:
                outcomes.append(None)
        return outcomes

    async def enqueue_into(
        self,
        pipe: aioredis.client.Pipeline,
        message: Message,
        *,
        max_length: int = 0,
        idempotency_key: str | None = None,
    ) -> None:
        """Add an enqueue to `pipe`, for a producer sending many jobs in one round trip.
        Each job is still its own atomic script; the caller executes the pipeline."""
        keys = [self.keys.queue, self.keys.job(message.id), self.keys.totals, self.keys.recent]
        if idempotency_key is not None:
            keys.append(self.keys.idempotency(idempotency_key))
        args = [message.encode(), message.enqueued_at, len(message.text), max_length, message.id, self.result_ttl_s]
        args.append(UNFINISHED_RECORD_TTL_S)
        await self._enqueue(keys=keys, args=args, client=pipe)

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

    def prepare(self, raws: list[bytes]) -> list[Taken]:
        """Decode reserved messages once (a foreign message's new id must survive a
        retried `start`), holding each to the API's limits. Pure: no Redis."""
        taken = []
        for raw in raws:
            if len(raw) > self.max_message_bytes:
                reason = f"message too big: {len(raw)} bytes; the limit is {self.max_message_bytes} (MAX_TEXT_CHARS)"
                taken.append(Taken(raw, None, reason, oversized=True))
                continue
            try:
                message, completed = decode_message(raw, self.max_text_chars)
            except PoisonMessage as exc:
                taken.append(Taken(raw, None, str(exc), oversized=exc.oversized))
                continue
            taken.append(Taken(raw, message, "", message.encode() if completed else b""))
        return taken

    async def start(self, worker_id: str, batch: list[Taken] | list[bytes]) -> list[Reserved]:
        """Mark reserved messages running, in one round trip for the batch. Poison and
        duplicates (an id twice in the batch, or already running on another worker) go to
        the dead list with the reason, and redeliveries of finished jobs are released; none
        is returned, and none holds up the rest of the batch. Safe to call again with the
        same prepared batch after a dropped connection (raw messages are prepared here,
        for callers that do not retry). A worker that starts several batches at once marks
        the ids it runs with `mark_duplicates` first: to start.lua, "running here" is a retry."""
        taken = mark_duplicates([item if isinstance(item, Taken) else self.prepare([item])[0] for item in batch], ())
        processing = self.keys.processing(worker_id)
        runnable = [item for item in taken if item.message is not None]
        pipe = self.redis.pipeline(transaction=False)
        await self._bury_into(pipe, processing, [item for item in taken if item.message is None])
        if runnable:
            keys, args = [processing], [time.time(), worker_id, UNFINISHED_RECORD_TTL_S]
            for item in runnable:
                message = item.message
                assert message is not None
                keys.append(self.keys.job(message.id))
                args += (item.raw, item.replacement, message.enqueued_at, len(message.text))
            await self._start(keys=keys, args=args, client=pipe)
        results = await _execute(pipe)
        started, refused = self._sort_started(runnable, results[-1] if runnable else [])
        if refused:  # found by the script: a second round trip, only for such a batch
            pipe = self.redis.pipeline(transaction=False)
            await self._bury_into(pipe, processing, refused)
            await _execute(pipe)
        return started

    def _sort_started(self, runnable: list[Taken], replies: list[int | bytes]) -> tuple[list[Reserved], list[Taken]]:
        """start.lua's replies as the jobs that run, and the messages to bury instead."""
        started, refused = [], []
        for item, reply in zip(runnable, replies, strict=True):
            message = item.message
            assert message is not None
            if isinstance(reply, bytes):
                key = self.keys.job(message.id)
                reason = f"its record key {key} holds a {reply.decode()}, not a job hash: the message was not run"
                refused.append(Taken(item.raw, None, reason, job_id=message.id))
            elif reply == -1:
                reason = f"duplicate id {message.id!r}: that job is already running on another worker"
                refused.append(Taken(item.raw, None, reason, job_id=message.id))
            elif reply:
                started.append(Reserved(raw=item.replacement or item.raw, message=message, attempt=int(reply)))
        return started, refused

    async def bury(self, worker_id: str, item: Taken, reason: str) -> bool:
        """A held message to the dead list with `reason`, for one the worker cannot start."""
        job_id = item.message.id if item.message is not None else item.job_id
        pipe = self.redis.pipeline(transaction=False)
        await self._bury_into(pipe, self.keys.processing(worker_id), [replace(item, poison=reason, job_id=job_id)])
        [buried] = await _execute(pipe)
        return bool(buried)

    async def _bury_into(self, pipe: aioredis.client.Pipeline, processing: str, poison: list[Taken]) -> None:
        for item in poison:
            entry = dead_entry(item.raw, item.poison, item.job_id, head_only=item.oversized)
            await self._bury(keys=[processing, self.keys.dead], args=[item.raw, entry, *self._dead_args()], client=pipe)

    async def complete(self, worker_id: str, job: Reserved, summary: str, model: str, event: bytes) -> bool:
        """running -> done, released and announced at once. False if it was already final."""
        completion = Completion(job, ("summary", summary, "model", model), event)
        return await self.complete_many(worker_id, [completion]) == 1

    async def complete_many(self, worker_id: str, batch: list[Completion]) -> int:
        """Complete a batch in one round trip, each job as atomically as `complete`.
        Returns how many became done (the others were already final)."""
        keys = [self.keys.processing(worker_id), self.keys.totals]
        args: list[object] = [time.time(), self.result_ttl_s, self.keys.channel]
        for item in batch:
            job_id = item.job.message.id
            keys += (self.keys.job(job_id), self.keys.stream(job_id))
            args += (item.job.raw, item.event, len(item.fields) // 2, *item.fields)
        return int(await self._complete(keys=keys, args=args))

    async def add_progress_many(self, batch: list[Delta]) -> list[None]:
        """Append pieces of summaries to their jobs' streams, in one round trip, and wake
        the listeners of those jobs."""
        keys, args = [], [STREAM_CAP, self.result_ttl_s, self.keys.progress_channel]
        for delta in batch:
            keys.append(self.keys.stream(delta.job_id))
            args += (delta.job_id, delta.attempt, delta.text)
        await self._progress(keys=keys, args=args)
        return [None] * len(batch)

    async def job_and_progress(
        self, job_id: str, after: str
    ) -> tuple[dict[str, object] | None, list[tuple[str, int, str]]]:
        """The job record and the pieces of its summary after stream id `after` ("-" for
        all), in one round trip: read in that order, so a final record comes with every
        piece (the worker writes them all before the job's ending)."""
        async with self.redis.pipeline(transaction=True) as pipe:  # no ending between the two reads
            pipe.hgetall(self.keys.job(job_id))
            pipe.xrange(self.keys.stream(job_id), "-" if after == "-" else f"({after}", "+")
            fields, entries = await pipe.execute()
        record = decode_record(job_id, fields) if fields else None
        pieces = [
            (entry_id.decode(), int(values[b"attempt"]), values[b"delta"].decode("utf-8", "replace"))
            for entry_id, values in entries
        ]
        return record, pieces

    async def stats(self) -> dict[str, object]:
        """Where the jobs are, the registered workers, and the totals since the queue began."""
        workers = sorted(m.decode() for m in await self.redis.smembers(self.keys.workers))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.keys.queue)
            pipe.zcard(self.keys.delayed)
            pipe.llen(self.keys.dead)
            pipe.hgetall(self.keys.totals)
            for worker_id in workers:
                pipe.llen(self.keys.processing(worker_id))
                pipe.get(self.keys.heartbeat(worker_id))
                pipe.pttl(self.keys.heartbeat(worker_id))
            depth, delayed, dead, raw_totals, *per_worker = await pipe.execute()
        rows = [_worker_row(w, *per_worker[3 * i : 3 * i + 3]) for i, w in enumerate(workers)]
        counts, usage = _split_totals(raw_totals)
        return {
            "queued": depth,
            "processing": sum(int(row["processing"]) for row in rows),  # type: ignore[call-overload]
            "delayed": delayed,
            "dead": dead,
            "dead_retention": {"max": self.retention.dead_max, "ttl_s": self.retention.dead_ttl_s},
            "workers": rows,
            "totals": counts,
            "usage": usage,
        }

    async def fail(self, worker_id: str, job: Reserved, error: str, event: bytes) -> bool:
        """running -> failed, dead-lettered and announced at once. False if it was already final."""
        job_id = job.message.id
        now, dead_max, dead_ttl_s = self._dead_args()
        code = await self._fail(
            keys=[
                self.keys.processing(worker_id),
                self.keys.job(job_id),
                self.keys.dead,
                self.keys.totals,
                self.keys.stream(job_id),
            ],
            args=[
                job.raw,
                error,
                now,
                self.result_ttl_s,
                self.keys.channel,
                event,
                dead_entry(job.raw, error, job_id),
                dead_max,
                dead_ttl_s,
            ],
        )
        return code == 1

    async def retry(self, worker_id: str, job: Reserved, error: str, delay_s: float) -> bool:
        """running -> queued in `delay_s`, the error recorded. False if it was already final."""
        due = time.time() + delay_s
        message = job.message
        following = Message(id=message.id, text=message.text, attempt=job.attempt, enqueued_at=message.enqueued_at)
        code = await self._retry(
            keys=[self.keys.processing(worker_id), self.keys.job(message.id), self.keys.delayed, self.keys.totals],
            args=[job.raw, following.encode(), due, error],
        )
        return code == 1

    async def promote_due(self, most: int = 1000) -> int:
        """Move retries whose time has come to the front of the queue; returns how many."""
        return int(await self._promote_due(keys=[self.keys.delayed, self.keys.queue], args=[time.time(), most]))

    async def requeue(self, worker_id: str, *, orphan: bool) -> int:
        """Put a worker's held messages back at the front of the queue: its own at
        shutdown, or a dead worker's (`orphan`: only while it has no heartbeat).
        Returns how many moved, or -1 if the worker turned out to be alive."""
        processing = self.keys.processing(worker_id)
        held: list[bytes] = await self.redis.lrange(processing, 0, -1)
        job_keys = [self._job_key_of(raw, default=processing) for raw in held]
        keys = [self.keys.queue, processing, self.keys.heartbeat(worker_id), self.keys.workers, self.keys.totals]
        keys += job_keys
        return int(await self._requeue(keys=keys, args=[worker_id, "orphan" if orphan else "own", *held]))

    def _job_key_of(self, raw: bytes, default: str) -> str:
        try:
            message, completed = decode_message(raw)
        except PoisonMessage:
            return default
        return default if completed else self.keys.job(message.id)

    async def beat(self, worker_id: str, ttl_s: float, info: bytes) -> None:
        """Register the worker and refresh its heartbeat, in one MULTI."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(self.keys.workers, worker_id)
        pipe.set(self.keys.heartbeat(worker_id), info, px=max(1, round(ttl_s * 1000)))
        await _execute(pipe)

    async def orphaned_workers(self, me: str) -> list[str]:
        """Registered workers other than `me` whose heartbeat has expired."""
        others = sorted(m.decode() for m in await self.redis.smembers(self.keys.workers) if m.decode() != me)
        if not others:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for worker_id in others:
            pipe.exists(self.keys.heartbeat(worker_id))
        alive = await _execute(pipe)
        return [worker_id for worker_id, beating in zip(others, alive, strict=True) if not beating]

    async def list_dead(self, most: int = 100) -> list[dict[str, object]]:
        """The newest `most` dead-list entries, decoded; `raw` is the entry as stored."""
        if most <= 0:  # LRANGE 0 -1 would mean "all"
            return []
        entries = await self.redis.lrange(self.keys.dead, 0, most - 1)
        return [{**orjson.loads(entry), "raw": entry} for entry in entries]

    async def requeue_dead(self, job_id: str | None = None) -> tuple[int, list[str]]:
        """Push dead jobs back as fresh jobs (attempts reset): the one with `job_id`, or
        all. Returns how many were requeued and why any could not be."""
        requeued, problems = 0, []
        for entry in await self.redis.lrange(self.keys.dead, 0, -1):
            data = orjson.loads(entry)
            if job_id is not None and data.get("id") != job_id:
                continue
            try:
                message, _ = decode_message(str(data.get("message", "")).encode())
            except PoisonMessage as exc:
                problems.append(f"entry {data.get('id')!r} cannot run again: {exc}")
                continue
            fresh = Message(id=message.id, text=message.text, attempt=0, enqueued_at=time.time())
            keys = [self.keys.dead, self.keys.queue, self.keys.job(fresh.id)]
            requeued += await self._requeue_dead(
                keys=keys, args=[entry, fresh.encode(), fresh.enqueued_at, len(fresh.text), UNFINISHED_RECORD_TTL_S]
            )
        return requeued, problems

    async def purge_dead(self, job_id: str | None = None) -> int:
        """Drop dead-list entries: the one(s) for `job_id`, or all. Returns how many."""
        if job_id is None:
            pipe = self.redis.pipeline(transaction=True)
            pipe.llen(self.keys.dead)
            pipe.delete(self.keys.dead)
            count, _ = await _execute(pipe)
            return int(count)
        dropped = 0
        for entry in await self.redis.lrange(self.keys.dead, 0, -1):
            if orjson.loads(entry).get("id") == job_id:
                dropped += await self.redis.lrem(self.keys.dead, 1, entry)
        return dropped

    async def recent_jobs(self, most: int) -> list[dict[str, object]]:
        """The newest jobs enqueued through the API, newest first (expired ones left out)."""
        ids = [raw.decode() for raw in await self.redis.lrange(self.keys.recent, 0, most - 1)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hgetall(self.keys.job(job_id))
            found = await pipe.execute()
        return [decode_record(job_id, fields) for job_id, fields in zip(ids, found, strict=True) if fields]

    async def totals(self) -> dict[str, int]:
        """The counts of transitions since the queue began (see COUNTS)."""
        return _split_totals(await self.redis.hgetall(self.keys.totals))[0]

    async def get_job(self, job_id: str) -> dict[str, object] | None:
        """The job record, or None for an unknown (or expired) id."""
        fields = await self.redis.hgetall(self.keys.job(job_id))
        return decode_record(job_id, fields) if fields else None


def mark_duplicates(taken: list[Taken], running: Container[str]) -> list[Taken]:
    """The batch with each later message of an id seen earlier in it, or of a job
    already `running` here, turned into poison: two messages of one job never both run."""
    seen: set[str] = set()
    kept = []
    for item in taken:
        message = item.message
        if message is not None and (message.id in seen or message.id in running):
            reason = f"duplicate id {message.id!r}: that job is already running on this worker"
            item = Taken(item.raw, None, reason, job_id=message.id)
        elif message is not None:
            seen.add(message.id)
        kept.append(item)
    return kept


def _split_totals(raw: dict[bytes, bytes]) -> tuple[dict[str, int], dict[str, float]]:
    """The totals hash as (transition counts, model usage), every field present."""
    counts = dict.fromkeys(COUNTS, 0)
    usage: dict[str, float] = {"prompt_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "cached_jobs": 0}
    for key, value in raw.items():
        name = key.decode()
        if name in counts:
            counts[name] = int(value)
        else:
            usage[name] = float(value) if name == "cost_usd" else int(value)
    return counts, usage


def _worker_row(worker_id: str, held: int, info: bytes | None, pttl: int) -> dict[str, object]:
    """A registered worker as /stats shows it; `alive` while its heartbeat key exists."""
    row: dict[str, object] = {"id": worker_id, "alive": info is not None, "processing": held}
    if info is not None:
        data = orjson.loads(info)
        row |= {key: data[key] for key in ("host", "pid", "started_at") if key in data}
        if "ttl_ms" in data and pttl >= 0:
            row["heartbeat_age_s"] = round((data["ttl_ms"] - pttl) / 1000, 3)
    return row
