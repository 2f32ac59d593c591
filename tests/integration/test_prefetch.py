"""WORKER_PREFETCH: a worker reserves a few messages beyond its slots, so a freed slot starts its
next job without waiting for a reservation. Prefetched messages are held like the rest (in the
worker's processing list) but not started: no attempt counted, and a stop hands them back."""

from __future__ import annotations

import asyncio
from collections import Counter

from app.config import Settings
from app.queue.message import new_message
from app.queue.store import Queue
from app.service import build_worker
from tests.conftest import with_
from tests.fakes.summarizers import Recorder
from tests.helpers import eventually


async def test_prefetched_messages_are_held_unstarted_and_handed_back_on_stop(settings: Settings, queue: Queue) -> None:
    messages = [new_message(f"text {i}. It is short.") for i in range(10)]
    for message in messages:
        await queue.producer.enqueue(message)
    held = with_(settings, worker_concurrency=2, worker_prefetch=3, shutdown_grace_s=0.1)
    worker = build_worker(held, Queue.from_settings(queue.redis, held), Recorder(gated=True))
    running = asyncio.create_task(worker.run())

    async def statuses() -> Counter[str]:
        records = [await queue.reads.get_job(m.id) or {} for m in messages]
        return Counter(str(record.get("status")) for record in records)

    async def prefetched() -> bool:
        return await queue.redis.llen(queue.keys.processing(worker.id)) == 5 and (await statuses())["running"] == 2

    try:
        await eventually(prefetched, what="2 jobs running and 3 more reserved beside them")
        records = [await queue.reads.get_job(m.id) or {} for m in messages]
        assert sorted(int(r["attempts"]) for r in records) == [0] * 8 + [1] * 2, "only started jobs count an attempt"
    finally:
        worker.stop()
        await running
    assert await statuses() == Counter({"queued": 10}), "the running and the prefetched, all handed back"
    assert await queue.redis.llen(queue.keys.queue) == 10
    assert await queue.redis.llen(queue.keys.processing(worker.id)) == 0


async def test_a_prefetched_message_recovered_meanwhile_is_not_started_here(queue: Queue) -> None:
    """Cut off past its heartbeat, a worker's prefetched message went back to the queue: the copy there
    is the job now. Starting the stale one must write nothing (else the job would run here with no
    message held anywhere, and the copy be buried as a duplicate)."""
    message = new_message("a text reserved ahead. Two sentences.")
    await queue.producer.enqueue(message)
    transitions = queue.transitions
    [raw] = await transitions.reserve("w1", 5, 0)
    await queue.redis.lrem(queue.keys.processing("w1"), 1, raw)  # as recovery moves it back
    await queue.redis.rpush(queue.keys.queue, raw)
    assert await transitions.start("w1", transitions.prepare([raw])) == []
    record = await queue.reads.get_job(message.id) or {}
    assert (record["status"], record["attempts"]) == ("queued", 0), "nothing written for the stale start"
    assert await queue.redis.llen(queue.keys.dead) == 0, "nothing buried"
    [job] = await transitions.start("w2", transitions.prepare(await transitions.reserve("w2", 5, 0)))
    assert (job.message.id, job.attempt) == (message.id, 1), "the recovered copy runs, once"
