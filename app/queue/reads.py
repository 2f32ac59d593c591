"""Reading a queue: job records, a job's progress, the newest jobs, and the numbers of /stats."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import orjson

from app.queue.contract import DEFAULT_TENANT, PRIORITIES, WAKE
from app.queue.producer import ONE_DAY_S, utc_day
from app.queue.record import USAGE_TOTALS, decode_record

if TYPE_CHECKING:
    from app.queue.store import Queue

# The transitions counted in the totals hash, by the scripts that make them.
COUNTS = ("enqueued", "done", "failed", "expired", "cancelled", "retried", "recovered")

Record = dict[str, object]
# A piece of a summary as its stream holds it: (entry id, attempt, text).
Piece = tuple[str, int, str]


class Reads:
    """What the API and the CLI read; nothing here writes."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._redis = queue.redis
        self._keys = queue.keys

    async def get_job(self, job_id: str) -> Record | None:
        """The job record, or None for an unknown (or expired) id."""
        fields = await self._redis.hgetall(self._keys.job(job_id))
        return decode_record(job_id, fields) if fields else None

    async def job_and_progress(self, job_id: str, after: str) -> tuple[Record | None, list[Piece]]:
        """The job record and the pieces of its summary after stream id `after` ("-" for
        all), in one round trip: read in that order, so a final record comes with every
        piece (the worker writes them all before the job's ending)."""
        async with self._redis.pipeline(transaction=True) as pipe:  # no ending between the two reads
            pipe.hgetall(self._keys.job(job_id))
            pipe.xrange(self._keys.stream(job_id), "-" if after == "-" else f"({after}", "+")
            fields, entries = await pipe.execute()
        record = decode_record(job_id, fields) if fields else None
        pieces = [
            (entry_id.decode(), int(values[b"attempt"]), values[b"delta"].decode("utf-8", "replace"))
            for entry_id, values in entries
        ]
        return record, pieces

    async def recent_jobs(self, most: int, tenant: str | None = None) -> list[Record]:
        """The newest jobs enqueued through the API, newest first (expired ones left out):
        every tenant's, or one tenant's."""
        recent = self._keys.recent if tenant is None else self._keys.tenant_recent(tenant)
        ids = [raw.decode() for raw in await self._redis.lrange(recent, 0, most - 1)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hgetall(self._keys.job(job_id))
            found = await pipe.execute()
        return [decode_record(job_id, fields) for job_id, fields in zip(ids, found, strict=True) if fields]

    async def totals(self) -> dict[str, int]:
        """The counts of transitions since the queue began (see COUNTS)."""
        return split_totals(await self._redis.hgetall(self._keys.totals))[0]

    async def stats(self) -> dict[str, object]:
        """Where the jobs are, the registered workers, and the totals since the queue began."""
        keys = self._keys
        workers = sorted(m.decode() for m in await self._redis.smembers(keys.workers))
        waiting = await self.waiting()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcard(keys.delayed)
            pipe.llen(keys.dead)
            pipe.get(keys.dead_written)
            pipe.zcard(keys.webhooks)
            pipe.zcard(keys.webhooks_dead)
            pipe.hgetall(keys.totals)
            for worker_id in workers:
                pipe.llen(keys.processing(worker_id))
                pipe.get(keys.heartbeat(worker_id))
                pipe.pttl(keys.heartbeat(worker_id))
            delayed, dead, dead_written, hooks_pending, hooks_dead, raw_totals, *per_worker = await pipe.execute()
        rows = [_worker_row(w, *per_worker[3 * i : 3 * i + 3]) for i, w in enumerate(workers)]
        counts, usage = split_totals(raw_totals)
        retention = self._queue.retention
        by_tenant: dict[str, int] = {}
        for (_, tenant), depth in waiting.items():
            by_tenant[tenant] = by_tenant.get(tenant, 0) + depth
        return {
            "queued": sum(waiting.values()),
            "queued_by_priority": {p.value: sum(n for (q, _), n in waiting.items() if q == p) for p in PRIORITIES},
            "queued_by_tenant": dict(sorted(by_tenant.items())),
            "processing": sum(int(row["processing"]) for row in rows),  # type: ignore[call-overload]
            "delayed": delayed,
            "dead": dead,
            "dead_written": int(dead_written or 0),
            "dead_retention": {"max": retention.dead_max, "ttl_s": retention.dead_ttl_s},
            "webhooks": {"pending": hooks_pending, "dead": hooks_dead},
            "workers": rows,
            "totals": counts,
            "usage": usage,
            "batch": await self._queue.batches.numbers(),
        }

    async def waiting(self) -> dict[tuple[str, str], int]:
        """The messages waiting in each lane with any, by (priority, tenant): the rings name the
        lanes with work; the queue list, where foreign producers push, is always read."""
        keys = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.llen(keys.queue)
            pipe.lpos(keys.queue, WAKE, rank=-1, count=0, maxlen=1000)  # wake tokens are no jobs (near the old end)
            for ring in keys.rings:
                pipe.zrange(ring, 0, -1)
            depth, tokens, *rings = await pipe.execute()
        lanes = [(p.value, raw.decode()) for p, ring in zip(PRIORITIES, rings, strict=True) for raw in ring]
        lanes = [lane for lane in lanes if keys.lane(*lane) != keys.queue]
        async with self._redis.pipeline(transaction=False) as pipe:
            for lane in lanes:
                pipe.llen(keys.lane(*lane))
            depths = await pipe.execute() if lanes else []
        waiting = {("normal", DEFAULT_TENANT): depth - len(tokens or ())}
        waiting |= dict(zip(lanes, depths, strict=True))
        return {lane: n for lane, n in waiting.items() if n > 0}

    async def tenant_numbers(self, tenant: str) -> dict[str, object]:
        """One tenant's jobs waiting now by priority (`queued`), queued or running (`active`),
        and its counts and usage since the queue began."""
        keys, day = self._keys, _today()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.tenant(tenant))
            pipe.mget(keys.spent(tenant, day), keys.spent_cost(tenant, day))
            for priority in PRIORITIES:
                pipe.llen(keys.lane(priority, tenant))
            pipe.lpos(keys.queue, WAKE, rank=-1, count=0, maxlen=1000)
            raw, spent, *depths, tokens = await pipe.execute()
        if tenant == DEFAULT_TENANT:  # its normal lane is the queue list, where wake tokens wait too
            depths[1] -= len(tokens or ())
        queued = {"queued_by_priority": {p.value: n for p, n in zip(PRIORITIES, depths, strict=True)}}
        return _tenant_numbers(raw, spent) | queued

    async def every_tenants_numbers(self) -> dict[str, dict[str, object]]:
        """`tenant_numbers` of every tenant that has had jobs, by name."""
        keys, day = self._keys, _today()
        names = sorted(raw.decode() for raw in await self._redis.smembers(keys.tenants))
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(keys.tenant(name))
                pipe.mget(keys.spent(name, day), keys.spent_cost(name, day))
            found = await pipe.execute()
        pairs = zip(found[::2], found[1::2], strict=True)
        return {name: _tenant_numbers(raw, spent) for name, (raw, spent) in zip(names, pairs, strict=True)}


def _today() -> str:
    return utc_day(int(time.time() // ONE_DAY_S))


def _tenant_numbers(raw: dict[bytes, bytes], spent: list[bytes | None]) -> dict[str, object]:
    """A tenant's hash as /stats shows it: active jobs, counts, usage, and today's spending
    against its daily budgets (0: none; as intake last wrote them)."""
    active = max(0, int(raw.pop(b"active", b"0")))
    budget_tokens, budget_cost = (float(raw.pop(name, b"0")) for name in (b"budget_tokens", b"budget_cost_usd"))
    counts, usage = split_totals(raw)
    tokens, cost = (float(value or 0) for value in spent)
    today = {"tokens": int(tokens), "cost_usd": round(cost, 9)}
    today |= {"budget_tokens": int(budget_tokens), "budget_cost_usd": budget_cost}
    return {"active": active, "totals": counts, "usage": usage, "today": today}


def split_totals(raw: dict[bytes, bytes]) -> tuple[dict[str, int], dict[str, float]]:
    """The totals hash as (transition counts, model usage), every field present."""
    counts = dict.fromkeys(COUNTS, 0)
    usage: dict[str, float] = {name: 0.0 if kind == "number" else 0 for name, kind in USAGE_TOTALS.items()}
    for key, value in raw.items():
        name = key.decode()
        if name in counts:
            counts[name] = int(value)
        else:
            usage[name] = float(value) if USAGE_TOTALS.get(name) == "number" else int(float(value))
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
