"""The Lua scripts in pipelines, on a real server and the embedded one: a pipeline sends bare EVALSHAs
(no SCRIPT EXISTS round trip each time), and when Redis has forgotten the scripts (a restart empties
its script cache) each refused command runs again once its script is loaded, and no other repeats."""

from __future__ import annotations

from app.queue.message import new_message
from app.queue.producer import Enqueue
from app.queue.store import Queue
from app.queue.transitions import HeldMessage


async def test_a_pipeline_after_the_script_cache_was_emptied_enqueues_each_job_once(queue: Queue) -> None:
    first, *rest = [new_message(f"text number {i}. It is a text.") for i in range(4)]
    await queue.producer.enqueue_many([Enqueue(first)])
    await queue.redis.script_flush()  # as a Redis restart (or a failover to a fresh replica) leaves it
    admitted = await queue.producer.enqueue_many([Enqueue(message) for message in rest])
    assert [a.refused for a in admitted] == [None, None, None]
    assert await queue.redis.llen(queue.keys.queue) == 4, "each job pushed once"
    assert int(await queue.redis.hget(queue.keys.totals, "enqueued") or 0) == 4


async def test_a_start_beside_a_burial_after_the_cache_was_emptied_does_each_once(queue: Queue) -> None:
    earlier, message = new_message("an earlier text. Two sentences."), new_message("a text to start. Two sentences.")
    transitions = queue.transitions
    await queue.producer.enqueue(earlier)
    earlier_raws = await transitions.reserve("w1", 5, 0)
    await queue.redis.lpush(queue.keys.processing("w1"), b"{junk")
    junk = HeldMessage(b"{junk", None, "not JSON (a test)")
    await transitions.start("w1", [*transitions.prepare(earlier_raws), junk])  # both scripts sent once
    await queue.producer.enqueue(message)
    raws = await transitions.reserve("w1", 5, 0)
    await queue.redis.lpush(queue.keys.processing("w1"), b"{broken")
    await queue.redis.script_flush()  # as a Redis restart (or a failover to a fresh replica) leaves it
    batch = [*transitions.prepare(raws), HeldMessage(b"{broken", None, "not JSON (a test)")]
    [job] = await transitions.start("w1", batch)
    assert (job.message.id, job.attempt) == (message.id, 1), "started once: one attempt counted"
    assert await queue.redis.llen(queue.keys.dead) == 2, "the broken message buried once (beside the junk)"
    held = await queue.redis.lrange(queue.keys.processing("w1"), 0, -1)
    assert sorted(held) == sorted([raws[0], earlier_raws[0]]), "both jobs held as running, nothing else"
