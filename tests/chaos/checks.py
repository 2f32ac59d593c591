"""After the chaos: wait (bounded) for the fleet to settle, then check what must hold, and print the table."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.queue.contract import Keys
from tests.chaos.clients import FINAL, Ledger
from tests.chaos.faults import RERUN_LIMIT_S, Chaos
from tests.chaos.fleet import Fleet, Proc, read_log

PROBE_WAIT_S = 15  # a probe job's ?wait=; with the calm model it ends in about a second
PROBE_PROMPT_S = 8.0  # answered later than this, the API's result listener did not wake the waiter


@dataclass
class Snapshot:
    """The queue's state as the harness reads it from Redis."""

    records: dict[str, dict[str, str]] = field(default_factory=dict)  # accepted id -> record ({} = none)
    queued: int = 0
    processing: dict[str, int] = field(default_factory=dict)  # processing list -> length (non-empty only)
    delayed: int = 0
    dead_messages: set[str] = field(default_factory=set)
    cache_locks: dict[str, str] = field(default_factory=dict)  # cache-lock key -> holder and TTL

    def unfinished(self) -> list[str]:
        return [job_id for job_id, record in self.records.items() if record and record.get("status") not in FINAL]

    def lost(self) -> list[str]:
        return [job_id for job_id, record in self.records.items() if not record]

    def with_status(self, status: str) -> list[str]:
        return [job_id for job_id, record in self.records.items() if record.get("status") == status]

    def settled(self, ledger: Ledger) -> bool:
        quiet = not self.unfinished() and not self.lost() and not self.queued and not self.processing
        return quiet and not self.delayed and not (set(ledger.garbage) - self.dead_messages)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


async def read_snapshot(redis: aioredis.Redis, keys: Keys, ids: list[str]) -> Snapshot:
    snapshot = Snapshot()
    async with redis.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hgetall(keys.job(job_id))
        pipe.llen(keys.queue)
        pipe.zcard(keys.delayed)
        pipe.lrange(keys.dead, 0, -1)
        replies = await pipe.execute(raise_on_error=False)
    for job_id, record in zip(ids, replies, strict=False):
        snapshot.records[job_id] = (
            {k.decode(): v.decode() for k, v in record.items()} if isinstance(record, dict) else {}
        )
    snapshot.queued, snapshot.delayed, dead = replies[len(ids) :]
    for entry in dead:
        snapshot.dead_messages.add(str(orjson.loads(entry).get("message")))
    async for key in redis.scan_iter(match=f"{keys.lane_prefix}*", count=1000):  # every other lane
        snapshot.queued += await redis.llen(key)
    async for key in redis.scan_iter(match=f"{keys.tag}:processing:*", count=1000):
        if length := await redis.llen(key):
            snapshot.processing[key.decode()] = length
    async for key in redis.scan_iter(match=f"{keys.tag}:cache-lock:*", count=1000):
        holder, ttl_ms = await redis.get(key), await redis.pttl(key)
        snapshot.cache_locks[key.decode()] = f"{(holder or b'').decode(errors='replace')} (ttl {ttl_ms / 1000:.0f} s)"
    return snapshot


async def settle(redis: aioredis.Redis, keys: Keys, ledger: Ledger, timeout_s: float) -> tuple[Snapshot, float]:
    """Poll until every accepted job ended and nothing is held, queued, delayed or missing
    from the dead list, or `timeout_s` passed. Returns the last snapshot and the time taken."""
    started = time.monotonic()
    snapshot = Snapshot()
    while True:
        with contextlib.suppress(RedisError, OSError):
            snapshot = await read_snapshot(redis, keys, sorted(ledger.accepted))
        elapsed = time.monotonic() - started
        if snapshot.settled(ledger) or elapsed > timeout_s:
            return snapshot, elapsed
        await asyncio.sleep(0.5)


def _few(ids: list[str] | set[str], most: int = 5) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:most]) + (f" … (+{len(ids) - most})" if len(ids) > most else "")


def _describe(job_id: str, record: dict[str, str]) -> str:
    fields = ("status", "worker", "attempts", "error")
    return f"{job_id} ({', '.join(f'{k}={record[k]}' for k in fields if record.get(k))})"


def job_checks(snapshot: Snapshot, ledger: Ledger) -> list[Check]:
    unfinished, lost = snapshot.unfinished(), snapshot.lost()
    reasonless = [i for i in snapshot.with_status("failed") if not snapshot.records[i].get("error", "").strip()]
    twice = [job_id for job_id, n in ledger.events.items() if n > 1 and job_id in ledger.accepted]
    unfinished_detail = _few([_describe(i, snapshot.records[i]) for i in unfinished])
    if unfinished and snapshot.cache_locks:
        unfinished_detail += f"; cache locks held: {_few([f'{k} by {v}' for k, v in snapshot.cache_locks.items()], 3)}"
    missing_garbage = set(ledger.garbage) - snapshot.dead_messages
    not_cancelled = [_describe(i, snapshot.records[i]) for i in ledger.cancelled if i in snapshot.records]
    not_cancelled = [d for d in not_cancelled if "status=cancelled" not in d]
    return [
        Check("every accepted job has a record (none lost)", not lost, _few(lost)),
        Check("every accepted job ended: done, failed, or cancelled", not unfinished, unfinished_detail),
        Check("every job cancelled with a 200 ended cancelled", not not_cancelled, _few(not_cancelled)),
        Check("every failed job carries a reason", not reasonless, _few(reasonless)),
        Check("no job ended twice (final events per id <= 1)", not twice, _few(twice)),
        Check("every lane empty", snapshot.queued == 0, f"{snapshot.queued} messages"),
        Check("every processing list empty", not snapshot.processing, str(snapshot.processing)[:300]),
        Check("delayed set empty", snapshot.delayed == 0, f"{snapshot.delayed} retries"),
        Check(
            "every garbage queue message on the dead list",
            not missing_garbage,
            "; ".join(f"{ledger.garbage[m]}: {m[:60]}" for m in sorted(missing_garbage)[:5]),
        ),
        Check("no client saw an error answer", not ledger.anomalies, "; ".join(ledger.anomalies[:5])),
    ]


def kill_checks(chaos: Chaos) -> list[Check]:
    kills = [kill for kill in chaos.kills if kill.how == "SIGKILL"]
    late = [
        f"{kill.worker_id}: {kill.worst_rerun_s if kill.worst_rerun_s is not None else 'never'} s; "
        f"not rerun: {_few(set(kill.held) - set(kill.rerun_s), 3)}"
        for kill in kills
        if kill.worst_rerun_s is None or kill.worst_rerun_s > RERUN_LIMIT_S
    ]
    harness = {kind: n for kind, n in chaos.injected.items() if "harness error" in kind}
    return [
        Check(
            f"each kill -9's jobs running again within {RERUN_LIMIT_S:g} s "
            f"({len(kills)} kills, {sum(len(kill.held) for kill in kills)} jobs held)",
            not late,
            " | ".join(late),
        ),
        Check("every scheduled fault carried out by the harness", not harness, str(harness)),
    ]


async def fleet_checks(fleet: Fleet, http: aiohttp.ClientSession) -> list[Check]:
    workers, apis = fleet.live_workers(), fleet.apis
    values = await asyncio.gather(*(_in_flight(http, proc) for proc in workers))
    in_flight = {proc.name: value for proc, value in zip(workers, values, strict=True)}
    not_idle = {name: value for name, value in in_flight.items() if value != 0.0}
    statuses = await asyncio.gather(*(_status(http, f"http://127.0.0.1:{proc.port}/readyz") for proc in apis))
    readyz = {proc.name: status for proc, status in zip(apis, statuses, strict=True)}
    not_ready = {name: status for name, status in readyz.items() if status != 200}
    probes = await asyncio.gather(*(_probe(http, proc) for proc in fleet.apis for _ in range(2)))
    slow = [probe for probe in probes if probe]
    dead = [f"{proc.log_path.name} (exit {proc.process.returncode})" for proc in fleet.everything if proc.exited]
    return [
        Check("every worker's summarize_jobs_in_flight is 0", not not_idle and bool(in_flight), str(in_flight)),
        Check("every API's /readyz is 200", not not_ready, str(readyz)),
        Check(f"every API's ?wait= answers within {PROBE_PROMPT_S:g} s of a job's end", not slow, "; ".join(slow)),
        Check("no API or worker process exited unless signalled", not dead, _few(dead)),
    ]


async def _in_flight(http: aiohttp.ClientSession, proc: Proc) -> float | None:
    """The worker's summarize_jobs_in_flight, read until 0 (up to 10 s); None if unreadable."""
    value: float | None = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            async with http.get(f"http://127.0.0.1:{proc.port}/metrics") as response:
                for line in (await response.text()).splitlines():
                    if line.startswith("summarize_jobs_in_flight "):
                        value = float(line.split()[1])
        except aiohttp.ClientError:
            value = None
        if value == 0.0:
            return value
        await asyncio.sleep(0.5)
    return value


async def _status(http: aiohttp.ClientSession, url: str) -> int:
    deadline = time.monotonic() + 10
    status = 0
    while time.monotonic() < deadline:
        try:
            async with http.get(url) as response:
                status = response.status
        except aiohttp.ClientError:
            status = 0
        if status == 200:
            break
        await asyncio.sleep(0.5)
    return status


async def _probe(http: aiohttp.ClientSession, proc: Proc) -> str:
    """A fresh job through POST ?wait=: '' when it came back ended and promptly, else what went wrong."""
    text = f"probe {time.time_ns()} for {proc.name}: is the result listener still waking waiters?"
    started = time.monotonic()
    try:
        async with http.post(f"http://127.0.0.1:{proc.port}/process?wait={PROBE_WAIT_S}", json={"text": text}) as got:
            body = await got.json()
    except aiohttp.ClientError as exc:
        return f"{proc.name}: {exc!r}"
    elapsed = time.monotonic() - started
    if got.status != 200 or body.get("status") not in FINAL:
        return f"{proc.name}: {got.status} {body.get('status')} after {elapsed:.1f} s"
    if elapsed > PROBE_PROMPT_S:
        return f"{proc.name}: ended but answered after {elapsed:.1f} s (job {body.get('id')})"
    return ""


def log_notes(fleet: Fleet) -> list[str]:
    """Errors and tracebacks per process log, and jobs whose ending was logged twice (ran twice)."""
    notes, endings = [], Counter[str]()
    for proc in fleet.everything:
        errors = []
        for entry in read_log(proc.log_path):
            if entry.get("event") in ("job done", "job failed"):
                endings[str(entry.get("job_id"))] += 1
            if entry.get("level") in ("error", "critical") or "exc" in entry or "Traceback" in str(entry.get("raw")):
                errors.append(str(entry.get("event") or entry.get("raw"))[:120])
        if errors:
            common = Counter(errors).most_common(3)
            notes.append(f"{proc.log_path.name}: {len(errors)} error lines, e.g. {common}")
    twice = [job_id for job_id, n in endings.items() if n > 1]
    if twice:
        notes.append(f"jobs whose ending was logged by workers more than once (ran twice): {len(twice)}: {_few(twice)}")
    return notes


def table(chaos: Chaos, ledger: Ledger, snapshot: Snapshot, settle_s: float, model_draws: Counter[str]) -> str:
    sources = Counter(ledger.accepted.values())
    twice = sum(1 for job_id, n in ledger.events.items() if n > 1 and job_id in ledger.accepted)
    silent = sum(1 for job_id in ledger.accepted if ledger.events[job_id] == 0)
    sigkills = [kill for kill in chaos.kills if kill.how == "SIGKILL"]
    reruns = [kill.worst_rerun_s for kill in sigkills]
    worst = "never (see checks)" if None in reruns else f"{max((r or 0.0 for r in reruns), default=0.0):.1f} s"
    finals = [kill.worst_final_s for kill in chaos.kills]
    worst_final = "not all ended" if None in finals else f"{max((f or 0.0 for f in finals), default=0.0):.1f} s"
    rows = [("faults injected", "")] + [(f"  {kind}", str(n)) for kind, n in sorted(chaos.injected.items())]
    rows += [("model answers drawn", "")] + [(f"  {kind}", str(n)) for kind, n in sorted(model_draws.items())]
    rows += [
        ("jobs accepted", f"{len(ledger.accepted)} ({', '.join(f'{k} {n}' for k, n in sorted(sources.items()))})"),
        ("  done", str(len(snapshot.with_status("done")))),
        ("  failed", str(len(snapshot.with_status("failed")))),
        ("  cancelled", f"{len(snapshot.with_status('cancelled'))} ({len(ledger.cancelled)} DELETEs answered 200)"),
        ("  not ended", str(len(snapshot.unfinished()))),
        ("  lost (no record)", str(len(snapshot.lost()))),
        ("  finished twice (events)", str(twice)),
        ("  no event heard (subscription gaps)", str(silent)),
        ("kill -9: jobs held / worst time to run again", f"{sum(len(k.held) for k in sigkills)} / {worst}"),
        ("kill -9 and SIGTERM: worst time to end", worst_final),
        ("settled after", f"{settle_s:.1f} s"),
    ]
    rows += [("clients", "")] + [(f"  {what}", str(n)) for what, n in sorted(ledger.clients.items())]
    width = max(len(name) for name, _ in rows) + 2
    return "\n".join(f"{name:<{width}}{value}" for name, value in rows)
