"""kill -9 with every default on (result cache, its single-flight locks, 3 s heartbeats):
the killed worker's jobs run again and end within seconds, not after its locks' old TTL."""

from __future__ import annotations

import signal
import time
from collections import Counter

from tests.fakes.gemini_server import Answer, Delay, FakeGemini
from tests.faults.processes import Private, Spawn, accept, all_running, gemini_worker_env
from tests.helpers import eventually

MODEL_S = 1.5


async def test_a_killed_holders_cache_locks_do_not_stall_the_recovery_of_its_jobs(
    private: Private, spawn: Spawn
) -> None:
    server, queue, _ = private
    async with FakeGemini(default=Delay(MODEL_S, Answer())) as gemini:
        env = gemini_worker_env(
            server,
            queue.keys,
            gemini.base_url,
            HEARTBEAT_INTERVAL="3",  # the default, as users run it (worker_env shortens it)
            WORKER_CONCURRENCY="20",
        )
        killed = spawn("killed", **env)
        ids = await accept(queue, 20)
        await all_running(queue, ids)

        async def all_calling() -> bool:
            return len(gemini.calls) == len(ids)

        await eventually(all_calling, what="every job in its model call on the worker about to die")
        spawn("survivor", **env)
        killed_at = time.time()
        killed.send_signal(signal.SIGKILL)
        killed.wait()

        async def all_done() -> bool:
            records = [await queue.reads.get_job(job_id) for job_id in ids]
            return Counter(str(r["status"]) if r else "missing" for r in records)["done"] == len(ids)

        await eventually(all_done, timeout_s=60, what="every job done after the kill")
        finished = {job_id: float((await queue.reads.get_job(job_id))["finished_at"]) for job_id in ids}  # type: ignore[index]
    worst = max(finished.values()) - killed_at
    # Heartbeat TTL (9 s) + one recovery scan (3 s) + the model call, with the cache's
    # locks of the dead holder gone by then: within 15 s of the kill plus the call.
    assert worst <= 15 + MODEL_S, f"the killed worker's jobs ended {worst:.1f} s after the kill"
