"""Carries out the fault schedule against the fleet and Redis, and times each kill's recovery."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.queue.contract import Keys
from tests.chaos.clients import FINAL, Ledger, job_text
from tests.chaos.fleet import Fleet
from tests.chaos.schedule import Fault, Kind

WATCH_EVERY_S = 0.1
RERUN_LIMIT_S = 15.0
LOADED_WAIT_S = 3.0  # the bound: a kill's jobs run again within 15 s
# Result-channel garbage: not JSON, not an object, an id of the wrong type, no id, no status.
RESULT_GARBAGE = (b'{"id":[]}', b"not json", b"[]", b'{"id":{"a":1},"status":"done"}', b'{"status":"done"}', b"\xff")
PROGRESS_GARBAGE = (b'{"id":[]}', b"not json", b"[]", b"", b"\xff\xfe", b"no-such-job")


@dataclass
class Kill:
    """One signalled worker: the jobs it held, and when each ran again / ended (s after the signal)."""

    how: str
    slot: int
    worker_id: str
    at: float  # time.monotonic() of the signal
    held: list[str]
    rerun_s: dict[str, float] = field(default_factory=dict)
    final_s: dict[str, float] = field(default_factory=dict)

    @property
    def worst_rerun_s(self) -> float | None:
        """The slowest held job's time to run again; None if one never did within the watch."""
        if len(self.rerun_s) < len(self.held):
            return None
        return max(self.rerun_s.values(), default=0.0)

    @property
    def worst_final_s(self) -> float | None:
        """The slowest held job's time to end; None if one had not ended when the watch stopped."""
        if len(self.final_s) < len(self.held):
            return None
        return max(self.final_s.values(), default=0.0)


class Chaos:
    """Runs the plan: each fault at its time, in its own task, so a slow one never delays the next."""

    def __init__(self, fleet: Fleet, redis: aioredis.Redis, keys: Keys, ledger: Ledger, seed: int) -> None:
        self.fleet, self.redis, self.keys, self.ledger, self.seed = fleet, redis, keys, ledger, seed
        self.injected: Counter[str] = Counter()
        self.kills: list[Kill] = []
        self.log: list[str] = []
        self.watching = asyncio.Event()  # cleared: the kill watchers stop
        self._busy: set[int] = set()  # worker slots being stopped or restarted
        self._tasks: set[asyncio.Task[None]] = set()
        self._watchers: set[asyncio.Task[None]] = set()
        self._started = 0.0

    async def run(self, faults: list[Fault]) -> None:
        self.watching.set()
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        for fault in faults:
            await asyncio.sleep(max(0.0, self._started + fault.at_s - loop.time()))
            self._spawn(self._inject(fault), self._tasks)

    async def finish(self, timeout_s: float) -> None:
        """Wait (bounded) for faults in progress, then bring every worker slot and Redis back."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*self._tasks, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await self.fleet.ensure_redis()
        for slot, proc in enumerate(self.fleet.workers):
            if proc is None or not proc.alive:
                await self.fleet.start_worker(slot)

    async def stop_watching(self) -> None:
        self.watching.clear()
        await asyncio.gather(*self._watchers, return_exceptions=True)

    def _spawn(self, work: Coroutine[object, object, None], into: set[asyncio.Task[None]]) -> None:
        task = asyncio.create_task(work)
        into.add(task)
        task.add_done_callback(into.discard)

    def _note(self, line: str) -> None:
        line = f"t={asyncio.get_running_loop().time() - self._started:6.1f}s {line}"
        self.log.append(line)
        print(line, flush=True)

    async def _inject(self, fault: Fault) -> None:
        try:
            match fault.kind:
                case Kind.KILL9 | Kind.SIGTERM:
                    await self._signal_worker(fault)
                case Kind.REDIS:
                    self._note(fault.describe())
                    self.injected[f"redis restart (SIG{fault.signal})"] += 1
                    await self.fleet.restart_redis(fault.signal, fault.pause_s)
                case _:
                    await self._nuisance(fault)
        except (RedisError, OSError) as exc:  # Redis is down for another fault: this one is skipped
            self.injected[f"{fault.kind}: not done, redis away"] += 1
            self._note(f"{fault.describe()}: not done ({type(exc).__name__})")
        except Exception as exc:  # a task boundary: reported in the table, never lost
            self.injected[f"{fault.kind}: harness error"] += 1
            self._note(f"{fault.describe()}: harness error {exc!r}")

    def _up_slots(self, wanted: int) -> list[int]:
        """Slots with a worker up and no fault in progress, the scheduled one first."""
        slots = len(self.fleet.workers)
        order = ((wanted + k) % slots for k in range(slots))
        return [slot for slot in order if slot not in self._busy and self.fleet.workers[slot] is not None]

    async def _target(self, fault: Fault) -> int | None:
        """A SIGTERM's scheduled slot (or the next one up). A kill -9 prefers a worker that holds
        jobs, waiting up to LOADED_WAIT_S for one: a kill of an idle worker measures nothing."""
        deadline = time.monotonic() + (LOADED_WAIT_S if fault.kind is Kind.KILL9 else 0.0)
        while True:
            slots = self._up_slots(fault.slot)
            for slot in slots if fault.kind is Kind.KILL9 else ():
                proc = self.fleet.workers[slot]
                if proc is not None and await self._held(proc.worker_id):
                    return slot
            if time.monotonic() >= deadline or not slots:
                return slots[0] if slots else None
            await asyncio.sleep(0.1)

    async def _signal_worker(self, fault: Fault) -> None:
        slot = await self._target(fault)
        if slot is None or slot in self._busy or self.fleet.workers[slot] is None:  # another fault took it
            self.injected[f"{fault.kind}: skipped, no worker up"] += 1
            return
        self._busy.add(slot)
        try:
            proc = self.fleet.workers[slot]
            assert proc is not None
            before = await self._held(proc.worker_id)
            sig = signal.SIGKILL if fault.kind is Kind.KILL9 else signal.SIGTERM
            at = time.monotonic()
            await self.fleet.stop_worker(slot, sig)
            held = list(dict.fromkeys(before + await self._held(proc.worker_id)))
            self.injected[str(fault.kind)] += 1
            self._note(f"{fault.describe()} ({proc.name} pid {proc.process.pid}, {len(held)} jobs held)")
            kill = Kill(sig.name, slot, proc.worker_id, at, held)
            self.kills.append(kill)
            self._spawn(self._watch(kill), self._watchers)
            await asyncio.sleep(fault.pause_s)
            await self.fleet.start_worker(slot)
            self.injected["worker restarts"] += 1
        finally:
            self._busy.discard(slot)

    async def _held(self, worker_id: str) -> list[str]:
        """Ids of accepted jobs in the worker's processing list (garbage and unknown ids left out)."""
        try:
            raws = await self.redis.lrange(self.keys.processing(worker_id), 0, -1)
        except (RedisError, OSError):
            return []
        ids = []
        for raw in raws:
            with contextlib.suppress(orjson.JSONDecodeError, AttributeError, TypeError):
                job_id = orjson.loads(raw).get("id")
                if job_id in self.ledger.accepted:
                    ids.append(job_id)
        return ids

    async def _watch(self, kill: Kill) -> None:
        """Poll the held jobs' records: running again on another worker (or ended), then ended."""
        pending = set(kill.held)
        while pending and self.watching.is_set():
            now = time.monotonic() - kill.at
            try:
                records = await _statuses(self.redis, self.keys, sorted(pending))
            except (RedisError, OSError):
                records = {}
            except Exception as exc:  # a watcher that died would report its kill's jobs as never run
                self._note(f"watch of {kill.worker_id}: harness error {exc!r}, polling on")
                records = {}
            for job_id, (status, worker) in records.items():
                ended = status in FINAL
                if job_id not in kill.rerun_s and (ended or (status == "running" and worker != kill.worker_id)):
                    kill.rerun_s[job_id] = now
                if ended:
                    kill.final_s[job_id] = now
                    pending.discard(job_id)
            await asyncio.sleep(WATCH_EVERY_S)

    async def _nuisance(self, fault: Fault) -> None:
        rng = random.Random(f"{self.seed}:{fault.index}")
        nonces = [f"{self.seed}-{fault.index}-{n}" for n in range(fault.count)]
        match fault.kind:
            case Kind.QUEUE_GARBAGE:
                for nonce in nonces:
                    await self._push_garbage(rng, nonce)
            case Kind.DUPLICATES:
                for nonce in nonces:
                    await self._push_duplicate(rng, nonce)
            case Kind.FOREIGN:
                for nonce in nonces:
                    await self._push_foreign(f"chaos-f-{nonce}", job_text(rng, fault.index), 1, "foreign")
            case Kind.RESULT_GARBAGE:
                for _ in nonces:
                    await self.redis.publish(self.keys.channel, rng.choice(RESULT_GARBAGE))
                    await self.redis.publish(self.keys.progress_channel, rng.choice(PROGRESS_GARBAGE))
                    self.injected["garbage published on job_result"] += 1
                    self.injected["garbage published on job_result:progress"] += 1

    async def _push_garbage(self, rng: random.Random, nonce: str) -> None:
        kind = rng.choice(("not JSON", "not UTF-8", "missing text", "blank text", "bad id", "wrong-typed record"))
        # (a message that is not a JSON object is a text, and runs: garbage is a broken object or bad bytes)
        raw = {
            "not JSON": f"{{not json {nonce}",
            "not UTF-8": f"\udcff\udcfe {nonce}",  # surrogate escapes: pushed as the bytes ff fe
            "missing text": orjson.dumps({"id": f"chaos-nt-{nonce}"}).decode(),
            "blank text": orjson.dumps({"id": f"chaos-bt-{nonce}", "text": "   "}).decode(),
            "bad id": orjson.dumps({"id": f"bad id {nonce}!", "text": "a text under a bad id"}).decode(),
            "wrong-typed record": orjson.dumps({"id": f"chaos-w-{nonce}", "text": "a text"}).decode(),
        }[kind]
        async with self.redis.pipeline(transaction=True) as pipe:
            if kind == "wrong-typed record":  # the record key already holds a string
                pipe.set(self.keys.job(f"chaos-w-{nonce}"), "not a hash", ex=3600)
            pipe.lpush(self.keys.queue, raw.encode("utf-8", "surrogateescape"))
            await pipe.execute()
        self.ledger.garbage[raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")] = kind
        self.injected[f"queue garbage: {kind}"] += 1

    async def _push_duplicate(self, rng: random.Random, nonce: str) -> None:
        api_jobs = [job_id for job_id, source in self.ledger.accepted.items() if source.startswith("api")]
        if api_jobs and rng.random() < 0.5:  # a second message for a job the API accepted
            job_id = rng.choice(api_jobs[-50:])
            await self._push_foreign(job_id, self.ledger.texts[job_id], 1, "duplicate of an API job")
        else:  # a foreign job whose message is pushed 2-3 times at once
            await self._push_foreign(f"chaos-d-{nonce}", job_text(rng, 0), rng.randint(2, 3), "foreign, duplicated")

    async def _push_foreign(self, job_id: str, text: str, copies: int, what: str) -> None:
        raw = orjson.dumps({"id": job_id, "text": text})
        await self.redis.lpush(self.keys.queue, *([raw] * copies))
        self.ledger.accept(job_id, "foreign" if what.startswith("foreign") else "api", text)
        self.injected[f"queue: {what}"] += 1


async def _statuses(redis: aioredis.Redis, keys: Keys, ids: list[str]) -> dict[str, tuple[str, str]]:
    async with redis.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hmget(keys.job(job_id), "status", "worker")
        replies = await pipe.execute()
    return {
        job_id: ((status or b"").decode(), (worker or b"").decode())
        for job_id, (status, worker) in zip(ids, replies, strict=True)
    }
