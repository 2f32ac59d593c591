"""Model usage: what a done job records of its tokens and cost, and the queue's totals of them,
counted once however often the ending is written."""

from __future__ import annotations

import orjson

from app.queue.message import new_message
from app.queue.record import Outcome
from app.queue.replies import Ended
from app.queue.store import Queue
from app.queue.transitions import Completion
from tests.helpers import TIMING, take

WORKER = "usage-worker"


async def test_usage_is_recorded_with_the_job_and_counted_in_the_totals_once(queue: Queue) -> None:
    messages = [new_message("paid"), new_message("cached")]
    for message in messages:
        await queue.producer.enqueue(message)
    paid, cached = await take(queue, WORKER, 2)
    paid_for = Outcome("s", "m", truncated=True, prompt_tokens=120, output_tokens=30, cost_usd=0.000111)
    reused = Outcome("s", "m", cached=True, prompt_tokens=0, output_tokens=0)
    batch = [Completion(paid, paid_for, TIMING), Completion(cached, reused, TIMING)]
    assert await queue.transitions.complete_many(WORKER, batch) == [Ended.ENDED, Ended.ENDED]
    again = await queue.transitions.complete_many(WORKER, batch)
    assert again == [Ended.ALREADY_FINAL] * 2  # a retried write changes nothing
    record = await queue.reads.get_job(paid.message.id)
    assert record is not None
    assert (record["prompt_tokens"], record["output_tokens"], record["cost_usd"]) == (120, 30, 0.000111)
    assert (record["cached"], record["truncated"]) == (False, True)
    event = orjson.loads(paid_for.event(paid.message.id, TIMING))
    assert {key: event[key] for key in ("prompt_tokens", "output_tokens", "cost_usd")} == record_usage(record)
    stats = await queue.reads.stats()
    assert stats["usage"] == {"prompt_tokens": 120, "output_tokens": 30, "cost_usd": 0.000111, "cached_jobs": 1}
    assert stats["totals"] == {
        "enqueued": 2,
        "done": 2,
        "failed": 0,
        "expired": 0,
        "cancelled": 0,
        "retried": 0,
        "recovered": 0,
    }


def record_usage(record: dict[str, object]) -> dict[str, object]:
    return {key: record[key] for key in ("prompt_tokens", "output_tokens", "cost_usd")}
