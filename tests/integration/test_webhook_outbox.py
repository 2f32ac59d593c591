"""The webhook outbox's scripts on a real server and the embedded one: a claim leases a delivery
and counts an attempt; only the current claim may settle it (its attempt number fences it); a late
`delivered` is news whatever claim it comes from; a delivery whose record is gone goes dead."""

from __future__ import annotations

import asyncio

from app.queue.message import new_message
from app.queue.producer import Enqueue
from app.queue.store import Queue
from app.queue.webhooks import Claimed, Settled


async def ended_with_callback(queue: Queue) -> str:
    message = new_message("a text that asks to be called back.")
    await queue.producer.enqueue_many([Enqueue(message, callback_url="https://hooks.example.com/x")])
    record = await queue.reads.get_job(message.id)
    assert record is not None
    await queue.producer.cancel(message.id, record)  # an ending: its delivery is due now
    return message.id


async def test_a_stale_claim_cannot_undo_the_claim_that_took_over(queue: Queue) -> None:
    job_id = await ended_with_callback(queue)
    outbox = queue.outbox
    [first] = await outbox.claim(lease_s=0.05, most=10)
    assert first == Claimed(job_id, 1)
    await asyncio.sleep(0.1)  # the first lease runs out (a clock, not a race)
    [second] = await outbox.claim(lease_s=60, most=10)
    assert second == Claimed(job_id, 2)
    assert not await outbox.settle(first, Settled.DEAD, error="late"), "the stale claim writes nothing"
    assert not await outbox.settle(first, Settled.RETRY, delay_s=0, error="late", lease_s=60)
    assert await outbox.claim(lease_s=60, most=10) == [], "still leased to the second claim"
    assert await outbox.settle(second, Settled.RETRY, delay_s=30, error="HTTP 500", lease_s=60)
    record = await queue.reads.get_job(job_id) or {}
    assert (record["webhook"], record["webhook_attempts"], record["webhook_error"]) == ("retrying", 2, "HTTP 500")
    assert await outbox.settle(first, Settled.DELIVERED), "a late success is still news"
    assert (await queue.reads.stats())["webhooks"] == {"pending": 0, "dead": 0}
    assert (await queue.reads.get_job(job_id) or {})["webhook"] == "delivered"


async def test_a_delivery_whose_record_is_gone_goes_dead_with_attempt_zero(queue: Queue) -> None:
    job_id = await ended_with_callback(queue)
    await queue.redis.delete(queue.keys.job(job_id))
    assert await queue.outbox.claim(lease_s=60, most=10) == [Claimed(job_id, 0)]
    assert (await queue.reads.stats())["webhooks"] == {"pending": 0, "dead": 1}
    assert await queue.outbox.resend(job_id) == -1, "nothing left to send"
