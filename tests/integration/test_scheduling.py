"""Which job a worker takes next: the most urgent waiting, round robin between tenants (by
weight) within a priority, a bounded share for `low`, and a blocked worker woken by any lane.
On a real Redis and on fakeredis (the embedded server runs the same scripts)."""

from __future__ import annotations

import asyncio
from collections import Counter

import orjson

from app.queue.contract import LOW_SHARE_EVERY, WAKE, Priority
from app.queue.message import Message, decode_message, new_message
from app.queue.producer import Enqueue, Quota
from app.queue.store import Queue
from app.queue.transitions import RunningJob
from tests.helpers import take


async def put(queue: Queue, text: str, tenant: str = "default", priority: str = "normal", weight: int = 1) -> Message:
    message = new_message(text, tenant=tenant, priority=Priority(priority))
    [admitted] = await queue.producer.enqueue_many([Enqueue(message, quota=Quota(weight=weight))])
    assert admitted.refused is None
    return message


async def texts(queue: Queue, worker_id: str, most: int) -> list[str]:
    """The texts of the next `most` jobs a worker reserves, in the order it took them."""
    raws = await queue.transitions.reserve(worker_id, most, 0)
    return [decode_message(raw)[0].text for raw in raws]


async def test_a_worker_takes_high_before_normal_before_low_whatever_the_order_they_came(queue: Queue) -> None:
    for i in range(3):
        await put(queue, f"normal {i}")
    await put(queue, "low 0", priority="low")
    await put(queue, "high 0", priority="high")
    await put(queue, "high 1", tenant="acme", priority="high")
    taken = await texts(queue, "w", 10)
    assert taken[:2] in (["high 0", "high 1"], ["high 1", "high 0"])
    assert taken[2:] == ["normal 0", "normal 1", "normal 2", "low 0"], "FIFO within a lane"


async def test_one_at_a_time_a_high_job_overtakes_a_normal_backlog(queue: Queue) -> None:
    for i in range(50):
        await put(queue, f"bulk {i}")
    assert await texts(queue, "w", 1) == ["bulk 0"]
    await put(queue, "urgent", priority="high")
    assert await texts(queue, "w", 1) == ["urgent"], "the next free slot goes to the high job"
    assert await texts(queue, "w", 1) == ["bulk 1"]


async def test_tenants_with_work_waiting_take_turns_whoever_queued_first(queue: Queue) -> None:
    for i in range(20):
        await put(queue, f"a{i}", tenant="acme")
    for i in range(3):
        await put(queue, f"b{i}", tenant="beta")
    for i in range(3):
        await put(queue, f"d{i}")  # the default tenant: the queue list itself
    taken = [text for _ in range(9) for text in await texts(queue, "w", 1)]
    assert Counter(text[0] for text in taken) == {"a": 3, "b": 3, "d": 3}, taken
    assert [t for t in taken if t[0] == "b"] == ["b0", "b1", "b2"], "FIFO within a tenant"
    assert await texts(queue, "w", 5) == ["a3", "a4", "a5", "a6", "a7"], "a tenant alone takes the batch"


async def test_a_tenant_arriving_behind_a_backlog_is_served_within_a_turn(queue: Queue) -> None:
    for i in range(200):
        await put(queue, f"a{i}", tenant="acme")
    assert len(await texts(queue, "w", 100)) == 100  # the backlog has been running a while
    await put(queue, "b0", tenant="beta")
    assert "b0" in await texts(queue, "w", 2), "no credit for acme's past, no wait behind its backlog"


async def test_a_batch_is_split_between_tenants_by_weight(queue: Queue) -> None:
    for i in range(40):
        await put(queue, f"a{i}", tenant="acme", weight=3)
        await put(queue, f"b{i}", tenant="beta")
    taken = await texts(queue, "w", 40)
    assert Counter(text[0] for text in taken) == {"a": 30, "b": 10}


async def test_low_jobs_get_one_start_in_low_share_every_under_a_flood_of_normal_ones(queue: Queue) -> None:
    for i in range(3):
        await put(queue, f"low {i}", priority="low")
    for i in range(100):
        await put(queue, f"n{i}")
    taken = [text for _ in range(60) for text in await texts(queue, "w", 1)]
    lows = [i for i, text in enumerate(taken) if text.startswith("low")]
    assert lows == [LOW_SHARE_EVERY - 1, 2 * LOW_SHARE_EVERY - 1, 3 * LOW_SHARE_EVERY - 1], taken
    batch = await texts(queue, "w2", 40)  # the same share within one batch
    assert len(batch) == 40 and not any(text.startswith("low") for text in batch), "no low job left"


async def test_the_share_holds_within_a_batch(queue: Queue) -> None:
    for i in range(5):
        await put(queue, f"low {i}", priority="low")
    for i in range(100):
        await put(queue, f"n{i}", priority="high")
    taken = await texts(queue, "w", 2 * LOW_SHARE_EVERY)
    assert sum(text.startswith("low") for text in taken) == 2


async def test_a_foreign_push_to_the_queue_list_is_the_default_tenants_normal_work(queue: Queue) -> None:
    await put(queue, "acme 0", tenant="acme")
    await queue.redis.lpush(queue.keys.queue, orjson.dumps({"text": "foreign 0"}))
    await queue.redis.lpush(queue.keys.queue, orjson.dumps({"text": "foreign 1"}))
    await put(queue, "acme 1", tenant="acme")
    taken = [text for _ in range(4) for text in await texts(queue, "w", 1)]
    assert sorted(taken) == ["acme 0", "acme 1", "foreign 0", "foreign 1"]
    kinds = [text.split()[0] for text in taken]
    assert kinds[0] != kinds[1] and kinds[2] != kinds[3], f"turns between the two: {taken}"
    assert taken.index("foreign 0") < taken.index("foreign 1")


async def test_a_worker_blocked_on_the_queue_list_wakes_for_a_job_in_another_lane(queue: Queue) -> None:
    if not queue.blocking_move:
        return  # fakeredis's blocking move returns at once: nothing to wake (the embedded worker re-reserves)
    waiting = asyncio.create_task(queue.transitions.reserve("w", 5, 0.5))
    await asyncio.sleep(0.05)  # the worker is blocked in BLMOVE (the reserve script found nothing)
    message = await put(queue, "urgent", tenant="acme", priority="high")
    assert [decode_message(raw)[0].id for raw in await waiting] == [message.id]
    assert await queue.redis.lrange(queue.keys.processing("w"), 0, -1) == [message.encode()], "the token dropped"
    assert await queue.redis.llen(queue.keys.queue) == 0


async def test_no_more_than_one_wake_token_waits_when_no_worker_is_blocked(queue: Queue) -> None:
    for i in range(20):
        await put(queue, f"a{i}", tenant="acme")
    assert await queue.redis.lrange(queue.keys.queue, 0, -1) == [WAKE]
    assert len(await texts(queue, "w", 100)) == 20
    assert await queue.redis.llen(queue.keys.queue) == 0, "the token is dropped on the way"
    assert await queue.redis.llen(queue.keys.processing("w")) == 20


async def test_a_retried_or_recovered_job_goes_back_to_the_front_of_its_own_lane(queue: Queue) -> None:
    first = await put(queue, "first", tenant="acme", priority="low")
    await put(queue, "second", tenant="acme", priority="low")
    [job] = await take(queue, "dies")
    assert job.message.id == first.id
    assert await queue.transitions.requeue("dies", orphan=True) == 1
    assert await texts(queue, "w", 1) == ["first"]
    [job] = await start_held(queue, "w")
    assert await queue.transitions.retry("w", job, "transient", 0.0)
    assert await queue.transitions.promote_due() == 1
    assert await queue.redis.lindex(queue.keys.lane("low", "acme"), -1) == job.raw, "at the consuming end"
    assert await texts(queue, "w", 2) == ["first", "second"]


async def start_held(queue: Queue, worker_id: str) -> list[RunningJob]:
    held = await queue.redis.lrange(queue.keys.processing(worker_id), 0, -1)
    return await queue.transitions.start(worker_id, queue.transitions.prepare(held))


async def test_one_tenants_high_backlog_leaves_the_others_normal_and_low_jobs_their_share(queue: Queue) -> None:
    for i in range(100):
        await put(queue, f"acme high {i}", tenant="acme", priority="high")
    await put(queue, "beta normal", tenant="beta")
    await put(queue, "gamma low", tenant="gamma", priority="low")
    taken = [text for _ in range(45) for text in await texts(queue, "w", 1)]
    assert taken.index("beta normal") < LOW_SHARE_EVERY, "a normal job waits at most its share's turn"
    assert taken.index("gamma low") < 2 * LOW_SHARE_EVERY
    assert all(text.startswith("acme high") for text in taken if text not in ("beta normal", "gamma low"))


async def test_a_recovery_into_other_lanes_wakes_as_many_blocked_workers(queue: Queue) -> None:
    if not queue.blocking_move:
        return  # fakeredis's blocking move returns at once: nothing to wake
    for tenant in ("acme", "beta"):
        await put(queue, f"{tenant} urgent", tenant=tenant, priority="high")
    held = await take(queue, "dies", 2)
    assert len(held) == 2
    waiting = [asyncio.create_task(queue.transitions.reserve(w, 1, 2.0)) for w in ("w1", "w2")]
    await asyncio.sleep(0.05)  # both blocked in BLMOVE on the empty queue list
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await queue.transitions.requeue("dies", orphan=True) == 2
    got = await asyncio.gather(*waiting)
    assert sorted(len(raws) for raws in got) == [1, 1], "each woke and took one"
    assert loop.time() - started < 1.0, "neither slept out its blocking read"
