"""Recovery of held jobs: orphans, shutdown hand-back, retries and the dead list, on real Redis and fakeredis."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio as aioredis

from app.queue.contract import Keys, Message, done_event, failed_event, new_message
from app.queue.store import JobQueue, Reserved
from tests.helpers import eventually
from tests.redis_server import RedisServer

WORKER = "me"
DEAD = "dead"


async def enqueue(queue: JobQueue, count: int) -> list[Message]:
    messages = [new_message(f"text {i}") for i in range(count)]
    for message in messages:
        await queue.enqueue(message)
    return messages


async def take(queue: JobQueue, worker_id: str, most: int) -> list[Reserved]:
    return await queue.start(worker_id, await queue.reserve(worker_id, most, block_s=0))


async def make_orphan(queue: JobQueue, worker_id: str = DEAD) -> None:
    """Register `worker_id` with a heartbeat that lapses at once, and wait until it has."""
    await queue.beat(worker_id, ttl_s=0.05, info=b"{}")
    heartbeat = queue.keys.heartbeat(worker_id)
    await eventually(lambda: _gone(queue.redis, heartbeat), timeout_s=5, what=f"heartbeat of {worker_id} expired")


async def _gone(redis: aioredis.Redis, key: str) -> bool:
    return not await redis.exists(key)


async def status(queue: JobQueue, job_id: str) -> object:
    record = await queue.get_job(job_id)
    assert record is not None, job_id
    return record["status"]


async def fail(queue: JobQueue, worker_id: str, job: Reserved, reason: str) -> bool:
    return await queue.fail(worker_id, job, reason, failed_event(job.message.id, reason, 0.0, 1.0, 2.0))


async def test_an_orphans_jobs_go_back_in_their_original_order(queue: JobQueue) -> None:
    messages = await enqueue(queue, 5)
    assert len(await take(queue, DEAD, 5)) == 5
    await make_orphan(queue)

    assert await queue.orphaned_workers(WORKER) == [DEAD]
    assert await queue.requeue(DEAD, orphan=True) == 5

    assert await queue.redis.llen(queue.keys.queue) == 5
    again = await queue.reserve(WORKER, 5, block_s=0)
    assert again == [m.encode() for m in messages], "reserved again oldest first, as originally"
    assert [await status(queue, m.id) for m in messages] == ["queued"] * 5
    assert not await queue.redis.sismember(queue.keys.workers, DEAD)
    assert await queue.orphaned_workers(WORKER) == []
    assert await queue.requeue(DEAD, orphan=True) == 0


async def test_requeued_jobs_go_to_the_consuming_end_ahead_of_the_backlog(queue: JobQueue) -> None:
    [held] = await enqueue(queue, 1)
    await take(queue, DEAD, 1)
    backlog = await enqueue(queue, 2)
    await make_orphan(queue)
    assert await queue.requeue(DEAD, orphan=True) == 1
    assert await queue.reserve(WORKER, 3, block_s=0) == [held.encode(), *(m.encode() for m in backlog)]


async def test_a_live_worker_is_not_robbed(queue: JobQueue) -> None:
    await enqueue(queue, 3)
    await take(queue, "alive", 3)
    await queue.beat("alive", ttl_s=30, info=b"{}")

    assert await queue.orphaned_workers(WORKER) == []
    assert await queue.requeue("alive", orphan=True) == -1
    assert await queue.redis.llen(queue.keys.processing("alive")) == 3
    assert await queue.redis.llen(queue.keys.queue) == 0
    assert await queue.redis.sismember(queue.keys.workers, "alive")


async def test_a_recovered_job_started_again_counts_attempt_2(queue: JobQueue) -> None:
    [message] = await enqueue(queue, 1)
    [first] = await take(queue, DEAD, 1)
    assert first.attempt == 1
    await make_orphan(queue)
    assert await queue.requeue(DEAD, orphan=True) == 1

    [second] = await take(queue, WORKER, 1)
    assert (second.message.id, second.attempt) == (message.id, 2)
    record = await queue.get_job(message.id)
    assert record is not None
    assert (record["status"], record["worker"], record["attempts"]) == ("running", WORKER, 2)


async def test_two_workers_racing_to_recover_an_orphan_move_each_message_once(
    redis_server: RedisServer, keys: Keys
) -> None:
    clients = [aioredis.Redis.from_url(redis_server.url) for _ in range(2)]
    queue_a, queue_b = (JobQueue(client, keys, result_ttl_s=60) for client in clients)
    try:
        for round_ in range(20):
            messages = await enqueue(queue_a, 100)
            assert len(await take(queue_a, DEAD, 100)) == 100
            await make_orphan(queue_a)

            moved = await asyncio.gather(queue_a.requeue(DEAD, orphan=True), queue_b.requeue(DEAD, orphan=True))

            assert sum(moved) == 100, f"round {round_}: {moved}"
            queued = await clients[0].lrange(keys.queue, 0, -1)
            assert sorted(queued) == sorted(m.encode() for m in messages), f"round {round_}: each message once"
            assert await clients[0].llen(keys.processing(DEAD)) == 0
            assert not await clients[0].sismember(keys.workers, DEAD)
            await clients[0].delete(keys.queue)  # the next round starts on an empty queue
    finally:
        for client in clients:
            await client.aclose()


async def test_a_retry_waits_in_the_delayed_set_then_runs_next(queue: JobQueue) -> None:
    [message] = await enqueue(queue, 1)
    backlog = await enqueue(queue, 1)
    [job] = await take(queue, WORKER, 1)
    assert await queue.retry(WORKER, job, "boom", delay_s=0.2) is True

    record = await queue.get_job(message.id)
    assert record is not None
    assert (record["status"], record["error"]) == ("queued", "boom")
    [parked] = await queue.redis.zrange(queue.keys.delayed, 0, -1)
    assert orjson.loads(parked)["id"] == message.id
    assert await queue.redis.zscore(queue.keys.delayed, parked) is not None
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0

    assert await queue.promote_due() == 0
    await eventually(lambda: _promoted(queue), timeout_s=5, what="the retry promoted once due")

    assert await queue.redis.zcard(queue.keys.delayed) == 0
    assert await queue.redis.lrange(queue.keys.queue, -1, -1) == [parked], "at the consuming end"
    assert await queue.redis.lrange(queue.keys.queue, 0, 0) == [backlog[0].encode()]
    assert orjson.loads(parked)["attempt"] == 1


async def _promoted(queue: JobQueue) -> bool:
    moved = await queue.promote_due()
    assert moved in (0, 1)
    return moved == 1


async def test_shutdown_hands_back_everything_even_while_beating(queue: JobQueue) -> None:
    messages = await enqueue(queue, 4)
    await take(queue, WORKER, 4)
    await queue.beat(WORKER, ttl_s=30, info=b"{}")

    assert await queue.requeue(WORKER, orphan=False) == 4

    assert await queue.reserve("next", 4, block_s=0) == [m.encode() for m in messages]
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0
    assert not await queue.redis.exists(queue.keys.heartbeat(WORKER))
    assert not await queue.redis.sismember(queue.keys.workers, WORKER)


async def test_dead_letters_are_listed_newest_first(queue: JobQueue) -> None:
    await enqueue(queue, 3)
    jobs = await take(queue, WORKER, 3)
    for i, job in enumerate(jobs):
        assert await fail(queue, WORKER, job, f"reason {i}")

    dead = await queue.list_dead()
    assert [(e["id"], e["reason"]) for e in dead] == [
        (j.message.id, f"reason {i}") for i, j in reversed(list(enumerate(jobs)))
    ]
    assert len(await queue.list_dead(most=2)) == 2


async def test_listing_no_dead_letters_lists_none(queue: JobQueue) -> None:
    await enqueue(queue, 2)
    for job in await take(queue, WORKER, 2):
        await fail(queue, WORKER, job, "no")
    assert await queue.list_dead(most=0) == []


async def test_a_requeued_dead_job_runs_again_as_a_fresh_job(queue: JobQueue) -> None:
    await enqueue(queue, 3)
    jobs = await take(queue, WORKER, 3)
    for job in jobs:
        await fail(queue, WORKER, job, "model said no")
    chosen, others = jobs[1], [jobs[0], jobs[2]]

    assert await queue.requeue_dead(chosen.message.id) == (1, [])

    assert [e["id"] for e in await queue.list_dead()] == [j.message.id for j in reversed(others)]
    [queued] = await queue.redis.lrange(queue.keys.queue, 0, -1)
    assert (orjson.loads(queued)["id"], orjson.loads(queued)["attempt"]) == (chosen.message.id, 0)
    record = await queue.get_job(chosen.message.id)
    assert record is not None
    assert (record["status"], record["attempts"]) == ("queued", 0)
    assert "error" not in record
    [again] = await take(queue, WORKER, 1)
    assert (again.message.id, again.attempt) == (chosen.message.id, 1)
    event = done_event(again.message.id, "s", "m", 0.0, 1.0, 2.0)
    assert await queue.complete(WORKER, again, "s", "m", event) is True
    assert await status(queue, chosen.message.id) == "done"

    assert await queue.requeue_dead() == (2, [])
    assert await queue.list_dead() == []
    requeued = [orjson.loads(raw) for raw in await queue.redis.lrange(queue.keys.queue, 0, -1)]
    assert sorted(m["id"] for m in requeued) == sorted(j.message.id for j in others)
    assert {m["attempt"] for m in requeued} == {0}
    assert [await status(queue, j.message.id) for j in others] == ["queued", "queued"]
    assert await queue.requeue_dead() == (0, [])

    for job in await take(queue, WORKER, 2):
        await fail(queue, WORKER, job, "no again")
    assert await queue.purge_dead("unknown") == 0
    assert await queue.purge_dead() == 2
    assert await queue.list_dead() == []


async def test_purge_drops_dead_entries(queue: JobQueue) -> None:
    await enqueue(queue, 3)
    jobs = await take(queue, WORKER, 3)
    for job in jobs:
        await fail(queue, WORKER, job, "no")

    assert await queue.purge_dead(jobs[0].message.id) == 1
    assert await queue.purge_dead("unknown") == 0
    assert await queue.purge_dead() == 2
    assert await queue.list_dead() == []
    assert await queue.purge_dead() == 0


async def test_a_poison_dead_entry_is_reported_and_kept(queue: JobQueue) -> None:
    await queue.redis.lpush(queue.keys.queue, b"not JSON")
    assert await take(queue, WORKER, 1) == []
    [entry] = await queue.list_dead()
    assert entry["id"] is None
    assert entry["reason"].startswith("not JSON")

    count, problems = await queue.requeue_dead()

    assert count == 0
    [problem] = problems
    assert "cannot run again" in problem and "not JSON" in problem
    assert [e["raw"] for e in await queue.list_dead()] == [entry["raw"]]
    assert await queue.redis.llen(queue.keys.queue) == 0
