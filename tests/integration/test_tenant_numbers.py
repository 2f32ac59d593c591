"""A tenant's `active` count (its quota of jobs queued or running) stays exact on every path:
jobs from the API, from a foreign producer's MULTI recipe or bare LPUSH, expired, failed,
requeued from the dead list, and a dead entry that is a second message of a live job."""

from __future__ import annotations

import asyncio

import orjson

from app.queue.message import Message, new_message
from app.queue.store import Queue
from tests.helpers import TIMING, complete, take

WORKER = "numbers-worker"


async def active(queue: Queue, tenant: str = "default") -> int:
    raw = await queue.redis.hget(queue.keys.tenant(tenant), "active")
    return int(raw or 0)


async def test_every_kind_of_job_is_counted_once_and_released_once(queue: Queue) -> None:
    await queue.producer.enqueue(new_message("from the API", tenant="acme"))
    multi = Message(id="multi-1", text="a MULTI producer's job", enqueued_at=1.0, tenant="acme")
    await queue.redis.hset(queue.keys.job("multi-1"), mapping={"status": "queued", "attempts": 0, "enqueued_at": 1})
    await queue.redis.lpush(queue.keys.queue, multi.encode())
    await queue.redis.lpush(queue.keys.queue, orjson.dumps({"text": "a bare LPUSH", "tenant": "acme"}))
    expired = Message(id="late-1", text="too late", enqueued_at=1.0, tenant="acme", expires_at=2.0)
    await queue.redis.lpush(queue.keys.queue, expired.encode())
    assert await active(queue, "acme") == 1, "only the API's job is known before a worker sees the rest"
    jobs = await take(queue, WORKER, 4)
    assert len(jobs) == 3 and await active(queue, "acme") == 3, "each started job counted once; the expired not"
    record = await queue.reads.get_job("multi-1")
    assert record is not None and record["tenant"] == "acme", "the MULTI record is given its message's tenant"
    assert "counted" not in record, "the script's own marker is not shown"
    for job in jobs:
        assert await complete(queue, WORKER, job)
        assert not await complete(queue, WORKER, job), "a second ending changes nothing"
    assert await active(queue, "acme") == 0


async def test_dead_list_requeue_counts_again_but_not_for_a_live_job(queue: Queue) -> None:
    message = new_message("fails, then runs again")
    await queue.producer.enqueue(message)
    [job] = await take(queue, WORKER)
    assert await queue.transitions.fail(WORKER, job, "no", TIMING)
    assert await active(queue) == 0
    assert await queue.dead.requeue(message.id) == (1, [])
    assert await active(queue) == 1
    [again] = await take(queue, WORKER)
    await queue.redis.lpush(queue.keys.queue, message.encode())  # a second message of the running job
    assert await take(queue, "other-worker") == [], "buried as a duplicate"
    requeued, problems = await queue.dead.requeue(message.id)
    assert requeued == 0 and "queued or running" in problems[0], "its job is live: the entry stays"
    assert len(await queue.dead.newest()) == 1 and await active(queue) == 1
    assert await complete(queue, WORKER, again)
    assert await active(queue) == 0


async def test_concurrent_endings_release_the_count_once(queue: Queue) -> None:
    await queue.producer.enqueue(new_message("raced"))
    [job] = await take(queue, WORKER)
    results = await asyncio.gather(
        complete(queue, WORKER, job), queue.transitions.fail(WORKER, job, "at the same time", TIMING)
    )
    assert sorted(results) == [False, True] and await active(queue) == 0
