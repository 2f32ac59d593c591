"""Bad messages on the queue harm nobody else: each goes to the dead list with its reason,
frees its slot, and leaves the rest of its batch to run; the dead list keeps to its retention."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from app.config import Settings
from app.model.summarizers.testing import NoopSummarizer, SleepSummarizer
from app.queue.contract import Keys
from app.queue.message import new_message
from app.queue.record import UNFINISHED_RECORD_TTL_S
from app.queue.store import Queue, Retention
from app.queue.transitions import HeldMessage, RunningJob, Transitions
from app.service import build_worker
from app.worker.runner import Worker
from tests.conftest import with_
from tests.helpers import complete, drain_events, eventually, take

RunWorker = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def run_worker(settings: Settings) -> AsyncIterator[RunWorker]:
    """A worker in the test's loop; it must still be running (not crashed) when the test ends."""
    started: list[tuple[Worker, asyncio.Task[None], Queue]] = []

    async def run(**changes: object) -> Worker:
        configured = with_(settings, **changes)
        queue = Queue.from_settings(aioredis.Redis.from_url(settings.redis_url or ""), configured)
        worker = build_worker(configured, queue, NoopSummarizer())
        started.append((worker, asyncio.create_task(worker.run()), queue))
        return worker

    yield run
    for worker, task, queue in started:
        assert not task.done(), "the worker stopped by itself"
        worker.stop()
        await asyncio.wait_for(task, 30)
        await queue.redis.aclose()


async def dead_entries(redis: aioredis.Redis, keys: Keys) -> list[dict[str, object]]:
    return [orjson.loads(entry) for entry in await redis.lrange(keys.dead, 0, -1)]


async def settled(worker: Worker, redis: aioredis.Redis, keys: Keys) -> bool:
    """Nothing queued or held, and every slot free again. The two lists are read in one MULTI: read
    one after the other, a reservation between the reads (queue -> processing) looked like nothing."""
    async with redis.pipeline(transaction=True) as pipe:
        held, queued = await pipe.llen(keys.processing(worker.id)).llen(keys.queue).execute()
    return held == 0 and queued == 0 and worker._calls == 0


async def one_dead_one_done(redis: aioredis.Redis, keys: Keys, run_worker: RunWorker, *, bad: str, good: str) -> str:
    """Push a bad and a good message in one LPUSH (one batch for the worker), run a worker, and
    check the good one done and the bad one alone on the dead list; return its reason."""
    await redis.lpush(
        keys.queue,
        orjson.dumps({"id": bad, "text": "the message that cannot start"}),
        orjson.dumps({"id": good, "text": "a message taken in the same batch"}),
    )
    worker = await run_worker()
    await eventually(lambda: settled(worker, redis, keys), what="both messages handled, slots free")
    assert worker.metrics.in_flight.collect()[0].samples[0].value == 0, "no slot leaked"
    assert (await redis.hgetall(keys.job(good)))[b"status"] == b"done"
    [entry] = await dead_entries(redis, keys)
    assert entry["id"] == bad
    return str(entry["reason"])


async def test_a_record_key_of_another_type_dead_letters_its_message_and_not_its_batch(
    redis: aioredis.Redis, keys: Keys, run_worker: RunWorker, pubsub: aioredis.client.PubSub
) -> None:
    await redis.set(keys.job("squatted"), "not a hash")
    reason = await one_dead_one_done(redis, keys, run_worker, bad="squatted", good="fine")
    assert "holds a string" in reason
    assert await redis.get(keys.job("squatted")) == b"not a hash", "someone else's key is left alone"
    assert [orjson.loads(e)["id"] for e in await drain_events(pubsub, 0.2)] == ["fine"]


async def test_two_messages_with_one_id_run_it_once_and_leave_nothing_held(
    redis: aioredis.Redis, keys: Keys, run_worker: RunWorker, pubsub: aioredis.client.PubSub
) -> None:
    # No enqueued_at: each copy is completed (given one) by the worker, so the two differ once taken.
    twin = orjson.dumps({"id": "twin", "text": "the same job twice"})
    await redis.lpush(keys.queue, twin, twin)
    worker = await run_worker()

    await eventually(lambda: settled(worker, redis, keys), what="both copies handled, slots free")
    events = [orjson.loads(e) for e in await drain_events(pubsub, 0.3)]
    assert [(e["id"], e["status"]) for e in events] == [("twin", "done")], "the job ended once"
    record = await redis.hgetall(keys.job("twin"))
    assert (record[b"status"], record[b"attempts"]) == (b"done", b"1")
    [entry] = await dead_entries(redis, keys)
    assert entry["id"] == "twin" and "duplicate" in str(entry["reason"])


async def test_a_second_message_of_a_job_running_elsewhere_is_not_run_again(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    queue = Queue.from_settings(redis, settings)
    await redis.lpush(keys.queue, orjson.dumps({"id": "busy", "text": "held by worker a", "enqueued_at": 1.0}))
    [job] = await take(queue, "a", 1)
    await redis.lpush(keys.queue, orjson.dumps({"id": "busy", "text": "held by worker a", "enqueued_at": 1.0}))

    assert await take(queue, "b", 1) == []
    assert await redis.llen(keys.processing("b")) == 0
    record = await redis.hgetall(keys.job("busy"))
    assert (record[b"worker"], record[b"attempts"]) == (b"a", b"1"), "still worker a's, one attempt"
    [entry] = await dead_entries(redis, keys)
    assert "already running on another worker" in str(entry["reason"])
    assert job.message.id == "busy"


async def test_a_foreign_text_over_max_text_chars_is_not_summarized(
    redis: aioredis.Redis, keys: Keys, run_worker: RunWorker
) -> None:
    await redis.lpush(keys.queue, orjson.dumps({"id": "huge", "text": "word " * 2_000}))
    await redis.lpush(keys.queue, b"x" * 20_000)  # over the message size limit: not even parsed
    worker = await run_worker(max_text_chars=1_000)

    await eventually(lambda: settled(worker, redis, keys), what="the messages handled")
    assert await redis.exists(keys.job("huge")) == 0, "never started"
    oversized, too_long = await dead_entries(redis, keys)
    assert str(too_long["reason"]).startswith("text too long: 10000 characters; the limit is 1000")
    assert str(oversized["reason"]).startswith("message too big: 20000 bytes")
    assert oversized["message_bytes"] == 20_000 and len(str(oversized["message"])) == 4096, "only its head kept"


async def test_the_dead_list_keeps_dead_max_entries_newest_first(redis: aioredis.Redis, settings: Settings) -> None:
    queue = Queue.from_settings(redis, with_(settings, dead_max=3))
    for i in range(5):
        await redis.lpush(queue.keys.queue, f"{{not json {i}".encode())
    assert await take(queue, "w", 5) == []

    assert [e["message"] for e in await queue.dead.newest()] == ["{not json 4", "{not json 3", "{not json 2"]
    assert (await queue.reads.stats())["dead_retention"] == {"max": 3, "ttl_s": settings.dead_ttl_s}


async def test_dead_entries_older_than_dead_ttl_go_oldest_first(redis: aioredis.Redis, settings: Settings) -> None:
    queue = Queue(redis, Keys(settings.queue_name, settings.result_channel), result_ttl_s=60)
    queue.retention = Retention(dead_max=100, dead_ttl_s=600)
    stale = {"id": None, "reason": "old", "message": "x"}
    aged = [orjson.dumps(stale | {"failed_at": time.time() - age}) for age in (5_000, 4_000, 100)]
    await redis.lpush(queue.keys.dead, *aged)  # oldest pushed first: the old end of the list
    await redis.lpush(queue.keys.queue, b"{]")
    assert await take(queue, "w", 1) == []

    entries = await queue.dead.newest()
    assert [e["reason"].split(":")[0] for e in entries] == ["not JSON", "old"], "the two past DEAD_TTL went"
    assert 0 < await redis.ttl(queue.keys.dead) <= 600, "an idle dead list expires as a whole"


async def test_a_second_message_of_a_job_running_on_this_worker_is_not_run_again(
    redis: aioredis.Redis, keys: Keys, settings: Settings, pubsub: aioredis.client.PubSub
) -> None:
    queue = Queue.from_settings(aioredis.Redis.from_url(settings.redis_url or ""), settings)
    worker = build_worker(settings, queue, SleepSummarizer(1.0))
    task = asyncio.create_task(worker.run())
    message = orjson.dumps({"id": "again", "text": "a job sent twice, a while apart", "enqueued_at": 1.0})
    try:
        await redis.lpush(keys.queue, message)

        async def running() -> bool:
            return await redis.hget(keys.job("again"), "status") == b"running"

        await eventually(running, what="the first message running")
        await redis.lpush(keys.queue, message)  # the same bytes: to start.lua, a retried start
        await eventually(lambda: settled(worker, redis, keys), what="both handled, slots free")
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
        await queue.redis.aclose()
    assert [orjson.loads(e)["id"] for e in await drain_events(pubsub, 0.2)] == ["again"]
    assert (await redis.hgetall(keys.job("again")))[b"attempts"] == b"1"
    [entry] = await dead_entries(redis, keys)
    assert "already running on this worker" in str(entry["reason"])


async def test_a_message_whose_start_fails_unexpectedly_is_buried_alone(
    redis: aioredis.Redis, keys: Keys, run_worker: RunWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start script error no check foresaw (here, injected for the message "cursed"): the batch
    is started message by message, and only the one that fails goes to the dead list."""
    real_start = Transitions.start

    async def start(self: Transitions, worker_id: str, batch: list[HeldMessage]) -> list[RunningJob]:
        if any(item.message is not None and item.message.id == "cursed" for item in batch):
            raise ResponseError("ERR Error running script: something nobody expected")
        return await real_start(self, worker_id, batch)

    monkeypatch.setattr(Transitions, "start", start)
    reason = await one_dead_one_done(redis, keys, run_worker, bad="cursed", good="blessed")
    assert reason.startswith("could not be started: ResponseError")


async def test_a_record_whose_job_never_ends_does_not_stay_forever(redis: aioredis.Redis, settings: Settings) -> None:
    """A queued or running job's record expires (UNFINISHED_RECORD_TTL_S) if its message is
    deleted by hand; the ending sets RESULT_TTL instead."""
    queue = Queue.from_settings(redis, settings)
    message = new_message("a job whose message someone deletes")
    await queue.producer.enqueue(message)
    assert 0 < await redis.ttl(queue.keys.job(message.id)) <= UNFINISHED_RECORD_TTL_S
    [job] = await take(queue, "w", 1)
    assert 0 < await redis.ttl(queue.keys.job(message.id)) <= UNFINISHED_RECORD_TTL_S
    await complete(queue, "w", job, "s", "m")
    assert 0 < await redis.ttl(queue.keys.job(message.id)) <= settings.result_ttl_s


async def test_a_worker_whose_upkeep_breaks_stops_and_hands_its_job_back(
    redis: aioredis.Redis, keys: Keys, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in one of the worker's own loops (injected: promoting due retries raises what no
    outage raises) must not leave a zombie that holds jobs and beats no more: the worker stops by
    itself, says why, and hands its running job back to the queue."""
    queue = Queue.from_settings(aioredis.Redis.from_url(settings.redis_url or ""), settings)
    worker = build_worker(with_(settings, shutdown_grace_s=0.1), queue, SleepSummarizer(30.0))
    task = asyncio.create_task(worker.run())
    try:
        await redis.lpush(keys.queue, orjson.dumps({"id": "held", "text": "a job on a worker about to break"}))

        async def running() -> bool:
            return await redis.hget(keys.job("held"), "status") == b"running"

        await eventually(running, what="the job running")

        async def broken(self: Transitions) -> int:
            raise ValueError("a bug nobody foresaw")

        monkeypatch.setattr(Transitions, "promote_due", broken)
        await asyncio.wait_for(asyncio.shield(task), 30)  # run() returns by itself
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
        await queue.redis.aclose()
    assert worker.broken is not None and "a bug nobody foresaw" in worker.broken
    assert await redis.hget(keys.job("held"), "status") == b"queued"
    assert [orjson.loads(raw)["id"] for raw in await redis.lrange(keys.queue, 0, -1)] == ["held"]


async def test_a_message_a_lost_reply_left_on_a_live_workers_list_is_run(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """A reservation whose reply never came back (Redis ran it, the connection dropped, redis-py
    took another batch) leaves a message on the list of a live worker that does not know it holds
    it; recovery never looks there. The worker's sweep puts it back within two sweeps."""
    queue = Queue.from_settings(aioredis.Redis.from_url(settings.redis_url or ""), settings)
    message = new_message("Taken, but the reply was lost.")
    await queue.producer.enqueue(message)
    assert await redis.lmove(keys.queue, keys.processing("w-lost"), "RIGHT", "LEFT") == message.encode()
    worker = build_worker(with_(settings, heartbeat_s=0.1), queue, NoopSummarizer(), worker_id="w-lost")
    task = asyncio.create_task(worker.run())
    try:

        async def done() -> bool:
            return await redis.hget(keys.job(message.id), "status") == b"done"

        await eventually(done, timeout_s=15, what="the stray job done")
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
        await queue.redis.aclose()
    assert await redis.hget(keys.job(message.id), "attempts") == b"1"
    assert await redis.hget(keys.totals, "recovered") == b"1"
