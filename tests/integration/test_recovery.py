"""Recovery of held jobs: orphans, shutdown hand-back, retries and the dead list, on real Redis and fakeredis."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import redis.asyncio as aioredis

from app.config import body_limit
from app.options import Options
from app.queue.contract import Keys
from app.queue.message import Message, new_message
from app.queue.record import Outcome
from app.queue.replies import Ended
from app.queue.store import Queue
from app.queue.transitions import Completion, RunningJob
from tests.helpers import TIMING, complete, eventually, take
from tests.redis_server import RedisServer

WORKER = "me"
DEAD = "dead"


async def enqueue(queue: Queue, count: int) -> list[Message]:
    messages = [new_message(f"text {i}") for i in range(count)]
    for message in messages:
        await queue.producer.enqueue(message)
    return messages


async def make_orphan(queue: Queue, worker_id: str = DEAD) -> None:
    """Register `worker_id` with a heartbeat that lapses at once, and wait until it has."""
    await queue.transitions.beat(worker_id, ttl_s=0.05, info=b"{}")
    heartbeat = queue.keys.heartbeat(worker_id)
    await eventually(lambda: _gone(queue.redis, heartbeat), timeout_s=5, what=f"heartbeat of {worker_id} expired")


async def _gone(redis: aioredis.Redis, key: str) -> bool:
    return not await redis.exists(key)


async def status(queue: Queue, job_id: str) -> object:
    record = await queue.reads.get_job(job_id)
    assert record is not None, job_id
    return record["status"]


async def fail(queue: Queue, worker_id: str, job: RunningJob, reason: str) -> bool:
    return await queue.transitions.fail(worker_id, job, reason, TIMING)


async def test_an_orphans_jobs_go_back_in_their_original_order(queue: Queue) -> None:
    messages = await enqueue(queue, 5)
    assert len(await take(queue, DEAD, 5)) == 5
    await make_orphan(queue)

    assert await queue.transitions.orphaned_workers(WORKER) == [DEAD]
    assert await queue.transitions.requeue(DEAD, orphan=True) == 5

    assert await queue.redis.llen(queue.keys.queue) == 5
    again = await queue.transitions.reserve(WORKER, 5, block_s=0)
    assert again == [m.encode() for m in messages], "reserved again oldest first, as originally"
    assert [await status(queue, m.id) for m in messages] == ["queued"] * 5
    assert not await queue.redis.sismember(queue.keys.workers, DEAD)
    assert await queue.transitions.orphaned_workers(WORKER) == []
    numbers = await queue.reads.tenant_numbers("default")
    assert (numbers["active"], numbers["totals"]["recovered"]) == (5, 5), "their tenant's numbers follow"
    assert await queue.transitions.requeue(DEAD, orphan=True) == 0


async def test_requeued_jobs_go_to_the_consuming_end_ahead_of_the_backlog(queue: Queue) -> None:
    [held] = await enqueue(queue, 1)
    await take(queue, DEAD, 1)
    backlog = await enqueue(queue, 2)
    await make_orphan(queue)
    assert await queue.transitions.requeue(DEAD, orphan=True) == 1
    assert await queue.transitions.reserve(WORKER, 3, block_s=0) == [held.encode(), *(m.encode() for m in backlog)]


async def test_a_live_worker_is_not_robbed(queue: Queue) -> None:
    await enqueue(queue, 3)
    await take(queue, "alive", 3)
    await queue.transitions.beat("alive", ttl_s=30, info=b"{}")

    assert await queue.transitions.orphaned_workers(WORKER) == []
    assert await queue.transitions.requeue("alive", orphan=True) == -1
    assert await queue.redis.llen(queue.keys.processing("alive")) == 3
    assert await queue.redis.llen(queue.keys.queue) == 0
    assert await queue.redis.sismember(queue.keys.workers, "alive")


async def test_a_recovered_job_started_again_counts_attempt_2(queue: Queue) -> None:
    [message] = await enqueue(queue, 1)
    [first] = await take(queue, DEAD, 1)
    assert first.attempt == 1
    await make_orphan(queue)
    assert await queue.transitions.requeue(DEAD, orphan=True) == 1

    [second] = await take(queue, WORKER, 1)
    assert (second.message.id, second.attempt) == (message.id, 2)
    record = await queue.reads.get_job(message.id)
    assert record is not None
    assert (record["status"], record["worker"], record["attempts"]) == ("running", WORKER, 2)


async def test_a_worker_cut_off_past_its_ttl_writes_no_ending_for_a_job_started_elsewhere(queue: Queue) -> None:
    """Fencing: a live worker whose heartbeat lapsed (cut off from Redis) had its job recovered and
    started again on another; when it comes back, its done, failed or retried writes change nothing,
    and the job ends once, by the worker that holds it now."""
    [message] = await enqueue(queue, 1)
    [cut_off] = await take(queue, DEAD, 1)
    await make_orphan(queue)
    assert await queue.transitions.requeue(DEAD, orphan=True) == 1
    [holder] = await take(queue, WORKER, 1)

    done = await queue.transitions.complete_many(DEAD, [Completion(cut_off, Outcome("stale", "m"), TIMING)])
    assert done == [Ended.TAKEN]
    assert not await fail(queue, DEAD, cut_off, "stale error")
    assert not await queue.transitions.retry(DEAD, cut_off, "stale retry", 0.0)
    assert await queue.redis.zcard(queue.keys.delayed) == 0, "no second message of the job"
    assert await status(queue, message.id) == "running"

    assert await complete(queue, WORKER, holder, summary="fresh")
    record = await queue.reads.get_job(message.id)
    assert record is not None and (record["status"], record["summary"]) == ("done", "fresh")


async def test_a_cut_off_workers_result_for_a_recovered_job_not_yet_restarted_is_kept(queue: Queue) -> None:
    """The job was recovered but no worker has started it again: the late result is as good as a new
    one, so it is recorded, and the recovered message is let go when a worker reaches it."""
    [message] = await enqueue(queue, 1)
    [cut_off] = await take(queue, DEAD, 1)
    await make_orphan(queue)
    assert await queue.transitions.requeue(DEAD, orphan=True) == 1
    assert await complete(queue, DEAD, cut_off, summary="late but fine")
    assert await take(queue, WORKER, 1) == [], "the recovered message is released, not run"
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0
    record = await queue.reads.get_job(message.id)
    assert record is not None and (record["status"], record["summary"]) == ("done", "late but fine")


async def test_two_workers_racing_to_recover_an_orphan_move_each_message_once(
    redis_server: RedisServer, keys: Keys
) -> None:
    clients = [aioredis.Redis.from_url(redis_server.url) for _ in range(2)]
    queue_a, queue_b = (Queue(client, keys, result_ttl_s=60) for client in clients)
    try:
        for round_ in range(20):
            messages = await enqueue(queue_a, 100)
            assert len(await take(queue_a, DEAD, 100)) == 100
            await make_orphan(queue_a)

            moved = await asyncio.gather(*(q.transitions.requeue(DEAD, orphan=True) for q in (queue_a, queue_b)))

            assert sum(moved) == 100, f"round {round_}: {moved}"
            queued = await clients[0].lrange(keys.queue, 0, -1)
            assert sorted(queued) == sorted(m.encode() for m in messages), f"round {round_}: each message once"
            assert await clients[0].llen(keys.processing(DEAD)) == 0
            assert not await clients[0].sismember(keys.workers, DEAD)
            await clients[0].delete(keys.queue)  # the next round starts on an empty queue
    finally:
        for client in clients:
            await client.aclose()


async def test_a_retry_waits_in_the_delayed_set_then_runs_next(queue: Queue) -> None:
    [message] = await enqueue(queue, 1)
    backlog = await enqueue(queue, 1)
    [job] = await take(queue, WORKER, 1)
    assert await queue.transitions.retry(WORKER, job, "boom", delay_s=0.2) is True

    record = await queue.reads.get_job(message.id)
    assert record is not None
    assert (record["status"], record["error"]) == ("queued", "boom")
    [parked] = await queue.redis.zrange(queue.keys.delayed, 0, -1)
    assert orjson.loads(parked)["id"] == message.id
    assert await queue.redis.zscore(queue.keys.delayed, parked) is not None
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0

    assert await queue.transitions.promote_due() == 0
    await eventually(lambda: _promoted(queue), timeout_s=5, what="the retry promoted once due")

    assert await queue.redis.zcard(queue.keys.delayed) == 0
    assert await queue.redis.lrange(queue.keys.queue, -1, -1) == [parked], "at the consuming end"
    assert await queue.redis.lrange(queue.keys.queue, 0, 0) == [backlog[0].encode()]
    assert parked == job.raw, "the same message runs again: the record counts the attempts"


async def _promoted(queue: Queue) -> bool:
    moved = await queue.transitions.promote_due()
    assert moved in (0, 1)
    return moved == 1


async def test_shutdown_hands_back_everything_even_while_beating(queue: Queue) -> None:
    messages = await enqueue(queue, 4)
    await take(queue, WORKER, 4)
    await queue.transitions.beat(WORKER, ttl_s=30, info=b"{}")

    assert await queue.transitions.requeue(WORKER, orphan=False) == 4

    assert await queue.transitions.reserve("next", 4, block_s=0) == [m.encode() for m in messages]
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0
    assert not await queue.redis.exists(queue.keys.heartbeat(WORKER))
    assert not await queue.redis.sismember(queue.keys.workers, WORKER)


async def test_dead_letters_are_listed_newest_first(queue: Queue) -> None:
    await enqueue(queue, 3)
    jobs = await take(queue, WORKER, 3)
    for i, job in enumerate(jobs):
        assert await fail(queue, WORKER, job, f"reason {i}")

    dead = await queue.dead.newest()
    assert [(e["id"], e["reason"]) for e in dead] == [
        (j.message.id, f"reason {i}") for i, j in reversed(list(enumerate(jobs)))
    ]
    assert len(await queue.dead.newest(most=2)) == 2


async def test_listing_no_dead_letters_lists_none(queue: Queue) -> None:
    await enqueue(queue, 2)
    for job in await take(queue, WORKER, 2):
        await fail(queue, WORKER, job, "no")
    assert await queue.dead.newest(most=0) == []


async def test_a_requeued_dead_job_runs_again_as_a_fresh_job(queue: Queue) -> None:
    await enqueue(queue, 3)
    jobs = await take(queue, WORKER, 3)
    for job in jobs:
        await fail(queue, WORKER, job, "model said no")
    chosen, others = jobs[1], [jobs[0], jobs[2]]

    assert await queue.dead.requeue(chosen.message.id) == (1, [])

    assert [e["id"] for e in await queue.dead.newest()] == [j.message.id for j in reversed(others)]
    [queued] = await queue.redis.lrange(queue.keys.queue, 0, -1)
    assert orjson.loads(queued)["id"] == chosen.message.id
    record = await queue.reads.get_job(chosen.message.id)
    assert record is not None
    assert (record["status"], record["attempts"]) == ("queued", 0)
    assert "error" not in record
    [again] = await take(queue, WORKER, 1)
    assert (again.message.id, again.attempt) == (chosen.message.id, 1)
    assert await complete(queue, WORKER, again, "s", "m") is True
    assert await status(queue, chosen.message.id) == "done"

    assert await queue.dead.requeue() == (2, [])
    assert await queue.dead.newest() == []
    requeued = [orjson.loads(raw) for raw in await queue.redis.lrange(queue.keys.queue, 0, -1)]
    assert sorted(m["id"] for m in requeued) == sorted(j.message.id for j in others)
    assert [await status(queue, j.message.id) for j in others] == ["queued", "queued"]
    assert await queue.dead.requeue() == (0, [])

    for job in await take(queue, WORKER, 2):
        await fail(queue, WORKER, job, "no again")
    assert await queue.dead.purge("unknown") == 0
    assert await queue.dead.purge() == 2
    assert await queue.dead.newest() == []


async def test_purge_drops_dead_entries(queue: Queue) -> None:
    await enqueue(queue, 3)
    jobs = await take(queue, WORKER, 3)
    for job in jobs:
        await fail(queue, WORKER, job, "no")

    assert await queue.dead.purge(jobs[0].message.id) == 1
    assert await queue.dead.purge("unknown") == 0
    assert await queue.dead.purge() == 2
    assert await queue.dead.newest() == []
    assert await queue.dead.purge() == 0


async def test_a_poison_dead_entry_is_reported_and_kept(queue: Queue) -> None:
    await queue.redis.lpush(queue.keys.queue, b"{not JSON")
    assert await take(queue, WORKER, 1) == []
    [entry] = await queue.dead.newest()
    assert entry["id"] is None
    assert entry["reason"].startswith("not JSON")

    count, problems = await queue.dead.requeue()

    assert count == 0
    [problem] = problems
    assert "cannot run again" in problem and "not JSON" in problem
    assert [e["raw"] for e in await queue.dead.newest()] == [entry["raw"]]
    assert await queue.redis.llen(queue.keys.queue) == 0


async def test_a_jobs_options_survive_its_retry_and_its_requeue_from_the_dead_list(queue: Queue) -> None:
    options = Options(max_words=40, format="bullets", language="de")
    message = new_message("a text with options", options)
    await queue.producer.enqueue(message)
    [job] = await take(queue, WORKER, 1)
    assert await queue.transitions.retry(WORKER, job, "busy", delay_s=0) is True
    await eventually(lambda: _promoted(queue), timeout_s=5, what="the retry promoted")
    [again] = await take(queue, WORKER, 1)
    assert (again.message.options, again.attempt) == (options, 2)
    await fail(queue, WORKER, again, "model said no")
    assert await queue.dead.requeue(message.id) == (1, [])
    [fresh] = await take(queue, WORKER, 1)
    assert fresh.message.options == options


async def test_a_foreign_message_near_the_size_limit_still_runs_in_its_completed_form(
    any_redis: aioredis.Redis,
) -> None:
    queue = Queue(any_redis, Keys(f"q{uuid.uuid4().hex[:8]}", "r"), result_ttl_s=60, max_text_chars=1000)
    raw = orjson.dumps({"text": "\x01" * 1000, "k": "a" * 4060})  # just under the limit as pushed
    api_limit = body_limit(1000)  # what the API takes of a text of MAX_TEXT_CHARS
    assert len(raw) <= api_limit
    await queue.redis.lpush(queue.keys.queue, raw)
    [job] = await take(queue, "w")
    assert len(job.raw) > api_limit, "held with its id, enqueued_at and meta: longer than pushed"
    assert await queue.transitions.retry("w", job, "transient", 0.0)
    assert await queue.transitions.promote_due() == 1
    [again] = await take(queue, "w")
    assert (again.message.id, again.attempt) == (job.message.id, 2), "the same job runs again, not buried"


async def test_a_dead_job_requeued_keeps_its_producers_own_fields(queue: Queue) -> None:
    await queue.redis.lpush(queue.keys.queue, orjson.dumps({"text": "t", "jobId": "nest-7"}))
    [job] = await take(queue, "w")
    assert await queue.transitions.fail("w", job, "gave up", TIMING)
    assert await queue.dead.requeue(job.message.id) == (1, [])
    record = await queue.reads.get_job(job.message.id)
    assert record is not None and record["meta"] == {"jobId": "nest-7"}
