"""kill -9 the worker that created and polls a batch: another worker resumes polling it, and each
of its jobs ends once, from the one batch (real processes, the real SDK, the fake Batch API)."""

from __future__ import annotations

import signal

from app.queue.contract import Mode
from app.queue.message import new_message
from tests.fakes.gemini_batches import BatchPlan
from tests.fakes.gemini_server import Answer, FakeGemini
from tests.faults.processes import Private, Spawn, all_running, assert_each_done_once, gemini_worker_env
from tests.helpers import eventually


async def test_a_killed_poller_leaves_its_batch_to_another_worker(private: Private, spawn: Spawn) -> None:
    server, queue, pubsub = private
    async with FakeGemini(default=Answer(text="Batched.")) as gemini:
        gemini.batches.plan(BatchPlan(after_s=3600))
        env = gemini_worker_env(
            server,
            queue.keys,
            gemini.base_url,
            BATCH_MAX_WAIT="0.2",
            BATCH_POLL_MIN="0.1",
            BATCH_POLL_MAX="0.2",
            JOB_TIMEOUT="2",  # a poll holds its batch 2 x JOB_TIMEOUT + 1 s at most
        )
        killed = spawn("killed", **env)
        ids = []
        for i in range(20):
            message = new_message(f"Archive text {i}. Nobody waits for it.", mode=Mode.BATCH)
            await queue.producer.enqueue(message)
            ids.append(message.id)
        await all_running(queue, ids)  # in the batch, which the API holds pending

        async def polled() -> bool:
            return any(batch.gets >= 2 for batch in gemini.batches.created.values())

        await eventually(polled, what="the batch polled by the worker about to die")
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        spawn("survivor", **env)
        [batch] = gemini.batches.created.values()
        polls_before = batch.gets
        await eventually(lambda: batch.gets > polls_before, timeout_s=30, what="the survivor polling")
        gemini.batches.finish(batch.name)
        await assert_each_done_once(queue, ids, pubsub)
    assert len(gemini.batches.created) == 1 and not gemini.calls, "one batch, no job run twice or alone"
    records = [await queue.reads.get_job(job_id) for job_id in ids]
    assert {(r or {}).get("batch") for r in records} == {batch.name}
    assert {(r or {}).get("attempts") for r in records} == {1}
