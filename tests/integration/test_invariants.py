"""A seeded random schedule of every transition over three simulated workers (some killed and recovered):
after each step every accepted job is in exactly one place, and in the end each has exactly one ending."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import orjson
import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.model.summarizers.testing import NoopSummarizer
from app.queue.contract import Keys
from app.queue.message import new_message
from app.queue.store import Queue
from app.queue.transitions import RunningJob
from app.service import build_worker
from tests.helpers import TIMING, complete, eventually, start

SEEDS = [1, 2, 3]
STEPS = 400
SLOTS = ("w0", "w1", "w2")
# Operation -> weight. Worker-bound operations act on a random live worker.
OPERATIONS = {
    "enqueue": 4,
    "take": 4,
    "complete": 2,
    "fail": 1,
    "retry": 2,
    "kill": 1,
    "revive": 1,
    "recover": 1,
    "promote": 2,
    "beat": 1,
}
RETRY_DELAYS_S = (0.0, 0.0, 0.01, 0.05, 0.2)
PROPER_PLACE = re.compile(r"queue|delayed|processing:.+|done|failed")


@dataclass
class Simulation:
    """Three worker slots driven by hand through the Queue API; all job state stays in Redis.
    In memory: each live worker's held jobs, the ids ever used, and the jobs accepted."""

    queue: Queue
    rng: random.Random
    live: dict[str, list[RunningJob]] = field(default_factory=dict)  # worker id -> jobs it holds
    slot_of: dict[str, str] = field(default_factory=dict)  # worker id -> slot
    ever: list[str] = field(default_factory=list)  # every worker id ever used
    accepted: list[str] = field(default_factory=list)

    async def start(self) -> None:
        for slot in SLOTS:
            await self._spawn(slot, slot)

    async def _spawn(self, slot: str, worker_id: str) -> None:
        await self.queue.transitions.beat(worker_id, 30, b"{}")
        self.live[worker_id], self.slot_of[worker_id] = [], slot
        self.ever.append(worker_id)

    def _worker(self) -> str | None:
        return self.rng.choice(sorted(self.live)) if self.live else None

    def _held_job(self) -> tuple[str, RunningJob] | None:
        holders = sorted(w for w, jobs in self.live.items() if jobs)
        if not holders:
            return None
        worker_id = self.rng.choice(holders)
        jobs = self.live[worker_id]
        return worker_id, jobs.pop(self.rng.randrange(len(jobs)))

    async def enqueue(self) -> None:
        message = new_message(f"text {len(self.accepted)}")
        await self.queue.producer.enqueue(message)
        self.accepted.append(message.id)

    async def take(self) -> None:
        if (worker_id := self._worker()) is None:
            return
        raws = await self.queue.transitions.reserve(worker_id, self.rng.randint(1, 3), block_s=0)
        if raws:
            jobs = await start(self.queue, worker_id, raws)
            assert len(jobs) == len(raws), "a fresh job was refused by start"
            self.live[worker_id] += jobs

    async def complete(self) -> None:
        if (held := self._held_job()) is None:
            return
        worker_id, job = held
        assert await complete(self.queue, worker_id, job, "s", "m") is True

    async def fail(self) -> None:
        if (held := self._held_job()) is None:
            return
        worker_id, job = held
        assert await self.queue.transitions.fail(worker_id, job, "no", TIMING) is True

    async def retry(self) -> None:
        if (held := self._held_job()) is None:
            return
        worker_id, job = held
        assert await self.queue.transitions.retry(worker_id, job, "later", self.rng.choice(RETRY_DELAYS_S)) is True

    async def kill(self) -> None:
        if (worker_id := self._worker()) is None:
            return
        del self.live[worker_id]  # what it held is forgotten with it: only recovery can bring it back
        await self.queue.redis.delete(self.queue.keys.heartbeat(worker_id))

    async def revive(self) -> None:
        dead_slots = sorted(set(SLOTS) - {self.slot_of[w] for w in self.live})
        if dead_slots:
            slot = self.rng.choice(dead_slots)
            await self._spawn(slot, f"{slot}.{len(self.ever)}")

    async def recover(self) -> None:
        if (worker_id := self._worker()) is None:
            return
        for orphan in await self.queue.transitions.orphaned_workers(worker_id):
            assert orphan not in self.live, f"live worker {orphan} reported as orphaned"
            assert await self.queue.transitions.requeue(orphan, orphan=True) >= 0

    async def promote(self) -> None:
        await self.queue.transitions.promote_due()

    async def beat(self) -> None:
        if (worker_id := self._worker()) is not None:
            await self.queue.transitions.beat(worker_id, 30, b"{}")


async def places_of_jobs(queue: Queue, worker_ids: list[str], job_ids: list[str]) -> dict[str, list[str]]:
    """Where each job is: 'queue', 'processing:<w>', 'delayed', 'done', 'failed' (a failed record and its one
    dead entry together), plus a note for anything inconsistent (a record whose status does not match where
    its message is, a dead entry without a failed record, ...)."""
    keys, redis = queue.keys, queue.redis
    registered = sorted(m.decode() for m in await redis.smembers(keys.workers))
    workers = sorted(set(worker_ids) | set(registered))
    pipe = redis.pipeline(transaction=True)  # one consistent snapshot
    pipe.lrange(keys.queue, 0, -1)
    pipe.zrange(keys.delayed, 0, -1)
    pipe.lrange(keys.dead, 0, -1)
    for worker_id in workers:
        pipe.lrange(keys.processing(worker_id), 0, -1)
    for job_id in job_ids:
        pipe.hget(keys.job(job_id), "status")
    queued, delayed, dead, *rest = await pipe.execute()
    held, statuses = rest[: len(workers)], rest[len(workers) :]

    places: dict[str, list[str]] = defaultdict(list)
    processing = [(f"processing:{w}", raws) for w, raws in zip(workers, held, strict=True)]
    lists = [("queue", queued), ("delayed", delayed), *processing]
    for where, raws in lists:
        for raw in raws:
            places[orjson.loads(raw)["id"]].append(where)
    dead_entries = Counter(orjson.loads(entry)["id"] for entry in dead)
    for job_id, status in zip(job_ids, statuses, strict=True):
        places[job_id] += record_places(
            status.decode() if status else None, places[job_id], dead_entries.pop(job_id, 0)
        )
    for job_id, entries in dead_entries.items():
        places[job_id].append(f"{entries} dead entries of an unknown job")
    return places


def record_places(status: str | None, listed: list[str], dead_entries: int) -> list[str]:
    """The place a job's record adds (a final one), and notes on any inconsistency with its message."""
    if status == "done":
        found = ["done"]
    elif status == "failed":
        found = ["failed" if dead_entries == 1 else f"failed record with {dead_entries} dead entries"]
        dead_entries = 0
    else:
        found = []
    for where in listed:
        expected = "running" if where.startswith("processing:") else "queued"
        if status != expected:
            found.append(f"record {status!r} while in {where}")
    if dead_entries:
        found.append(f"{dead_entries} dead entries for a {status!r} record")
    return found


def misplaced(places: dict[str, list[str]], job_ids: list[str]) -> dict[str, list[str]]:
    """The jobs not in exactly one proper place, and anything found for a job nobody accepted."""
    accepted = set(job_ids)
    wrong = {job_id: where for job_id, where in places.items() if job_id not in accepted}
    for job_id in job_ids:
        where = places.get(job_id, [])
        if len(where) != 1 or not PROPER_PLACE.fullmatch(where[0]):
            wrong[job_id] = where
    return wrong


async def read_events_until(pubsub: aioredis.client.PubSub, redis: aioredis.Redis, channel: str) -> Counter[str]:
    """Every event published so far: a marker published now arrives after all of them."""
    marker = b"end-of-events"
    await redis.publish(channel, marker)
    counts: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (remaining := deadline - loop.time()) > 0:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
        if message is None:
            continue
        if message["data"] == marker:
            return counts
        counts[orjson.loads(message["data"])["id"]] += 1
    raise AssertionError("the end-of-events marker did not arrive within 10 s")


async def run_schedule(sim: Simulation, seed: int) -> None:
    names, weights = list(OPERATIONS), list(OPERATIONS.values())
    history: list[str] = []
    for step in range(STEPS):
        operation = sim.rng.choices(names, weights)[0]
        history.append(operation)
        context = f"seed {seed}, step {step} ({operation}); last steps: {history[-8:]}"
        try:
            await getattr(sim, operation)()
        except AssertionError as exc:
            raise AssertionError(f"{context}: {exc}") from exc
        places = await places_of_jobs(sim.queue, sim.ever, sim.accepted)
        wrong = misplaced(places, sim.accepted)
        assert not wrong, f"{context}: jobs not in exactly one place: {wrong}"


async def drain(sim: Simulation, settings: Settings) -> None:
    """Hand back what live workers hold, recover every orphan, then let a real worker end every job."""
    queue = sim.queue
    for worker_id, held in sorted(sim.live.items()):
        assert await queue.transitions.requeue(worker_id, orphan=False) == len(held)
    for orphan in await queue.transitions.orphaned_workers("drainer"):
        assert await queue.transitions.requeue(orphan, orphan=True) >= 0
    redis = aioredis.Redis.from_url(settings.redis_url or "")
    worker = build_worker(settings, Queue(redis, queue.keys, result_ttl_s=60), NoopSummarizer(), worker_id="drainer")
    task = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: all_final(queue, sim.accepted), timeout_s=30, what="every job final")
    finally:
        worker.stop()
        await task
        await redis.aclose()


async def all_final(queue: Queue, job_ids: list[str]) -> bool:
    pipe = queue.redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(queue.keys.job(job_id), "status")
    return all(status in (b"done", b"failed") for status in await pipe.execute())


@pytest.mark.parametrize("seed", SEEDS)
async def test_every_job_is_in_exactly_one_place_and_ends_once(
    redis: aioredis.Redis, pubsub: aioredis.client.PubSub, keys: Keys, settings: Settings, seed: int
) -> None:
    sim = Simulation(Queue(redis, keys, result_ttl_s=60), random.Random(seed))
    await sim.start()

    await run_schedule(sim, seed)
    events_during = await read_events_until(pubsub, redis, keys.channel)
    finals = await places_of_jobs(sim.queue, sim.ever, sim.accepted)
    ended = {job_id for job_id, where in finals.items() if where in (["done"], ["failed"])}
    assert {job_id: n for job_id, n in events_during.items() if n != 1 or job_id not in ended} == {}, f"seed {seed}"
    assert len(events_during) == len(ended), f"seed {seed}: a job ended without an event"

    await drain(sim, settings)

    places = await places_of_jobs(sim.queue, [*sim.ever, "drainer"], sim.accepted)
    assert not misplaced(places, sim.accepted), f"seed {seed}, after the drain: {misplaced(places, sim.accepted)}"
    assert {tuple(where) for where in places.values()} <= {("done",), ("failed",)}, f"seed {seed}"
    leftovers = [key async for key in redis.scan_iter(match=keys.processing("*"))]
    assert leftovers == [], f"seed {seed}: processing lists left: {leftovers}"
    assert await redis.smembers(keys.workers) == set(), f"seed {seed}: workers still registered"
    events = events_during + await read_events_until(pubsub, redis, keys.channel)
    assert set(events) == set(sim.accepted), f"seed {seed}: jobs without an event"
    assert {job_id: n for job_id, n in events.items() if n != 1} == {}, f"seed {seed}: jobs with several events"
