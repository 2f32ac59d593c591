"""Fault injection with real processes: kill -9 a worker, SIGTERM it, restart Redis under load.

Each test starts its own redis-server and `python -m app` processes, and asserts that
every accepted job ends in exactly one final record with exactly one event.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiohttp

from app.queue.store import Queue
from tests.faults.processes import Private, Spawn, accept, all_running, assert_each_done_once, statuses, worker_env
from tests.faults.stall import StallingProxy
from tests.helpers import eventually
from tests.redis_server import free_port


async def test_kill_9_with_50_jobs_in_flight_loses_none_and_finishes_none_twice(private: Private, spawn: Spawn) -> None:
    server, queue, pubsub = private
    ids = await accept(queue, 50)
    env = worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="1", WORKER_CONCURRENCY="50")
    first = spawn("first", **env)

    await all_running(queue, ids)
    first.send_signal(signal.SIGKILL)
    first.wait()
    spawn("second", **env)
    await assert_each_done_once(queue, ids, pubsub)
    records = [await queue.reads.get_job(job_id) for job_id in ids]
    assert all(r and r["attempts"] == 2 for r in records), "each was recovered once, counting an attempt"


async def test_sigterm_hands_back_jobs_longer_than_the_grace(private: Private, spawn: Spawn, tmp_path: Path) -> None:
    server, queue, pubsub = private
    ids = await accept(queue, 20)
    first = spawn("first", **worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="30", SHUTDOWN_GRACE="0.5"))

    await all_running(queue, ids)
    first.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(first.wait, 15) == 0
    assert await statuses(queue, ids) == Counter({"queued": 20})
    assert await queue.redis.llen(queue.keys.queue) == 20
    assert await queue.redis.scard(queue.keys.workers) == 0, "the stopped worker deregistered"
    assert "handed back unfinished jobs" in (tmp_path / "first.log").read_text()
    spawn("second", **worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="0.1"))
    await assert_each_done_once(queue, ids, pubsub)


async def test_sigterm_lets_jobs_within_the_grace_finish(private: Private, spawn: Spawn) -> None:
    server, queue, pubsub = private
    ids = await accept(queue, 20)
    worker = spawn("worker", **worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="1", SHUTDOWN_GRACE="20"))

    await all_running(queue, ids)
    worker.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(worker.wait, 30) == 0
    await assert_each_done_once(queue, ids, pubsub)


async def test_a_redis_restart_mid_run_loses_no_accepted_job(private: Private, spawn: Spawn, tmp_path: Path) -> None:
    server, queue, _ = private
    port = free_port()
    env = worker_env(server, queue.keys, ROLE="all", PORT=str(port), SLEEP_SUMMARIZER_S="0.3", WORKER_CONCURRENCY="5")
    service = spawn("service", **env)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        await eventually(lambda: _ready(http, base), timeout_s=30, what="service ready")
        ids = [await _submit(http, base, f"text {i}") for i in range(30)]
        await queue.redis.aclose()
        server.stop()
        async with http.post(f"{base}/process", json={"text": "during the outage"}) as response:
            assert (response.status, response.content_type) == (503, "application/problem+json")
        server.start()  # same port, same AOF directory
        await asyncio.sleep(1.0)  # the outage lasts a while: workers and API must ride it out, not give up
        records = [await _job(http, base, job_id) for job_id in ids]
        assert all(r["status"] in ("queued", "running", "done") for r in records)
        done = [await _job(http, base, job_id, wait_s=30) for job_id in ids]
    assert [r["status"] for r in done] == ["done"] * 30
    assert service.poll() is None
    log = (tmp_path / "service.log").read_text()
    assert "Traceback" not in log
    assert log.count("redis unreachable") <= 12, "one line per outage and loop, not one per attempt"


async def _ready(http: aiohttp.ClientSession, base: str) -> bool:
    try:
        async with http.get(f"{base}/readyz") as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def _submit(http: aiohttp.ClientSession, base: str, text: str) -> str:
    async with http.post(f"{base}/process", json={"text": text}) as response:
        assert response.status == 202
        return (await response.json())["id"]


async def _job(http: aiohttp.ClientSession, base: str, job_id: str, wait_s: float = 0) -> dict[str, object]:
    async with http.get(f"{base}/jobs/{job_id}?wait={wait_s}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_a_long_job_on_a_live_worker_is_never_taken_from_it(private: Private, spawn: Spawn) -> None:
    server, queue, pubsub = private
    env = worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="4", HEARTBEAT_INTERVAL="0.2")
    spawn("a", **env)
    spawn("b", **env)
    ids = await accept(queue, 4)  # runs 20x longer than a heartbeat TTL, while both workers scan for orphans
    await assert_each_done_once(queue, ids, pubsub)
    records = [await queue.reads.get_job(job_id) for job_id in ids]
    assert [r["attempts"] for r in records if r] == [1, 1, 1, 1], "a live worker's job was recovered"


async def test_a_worker_whose_connections_stall_keeps_its_jobs(private: Private, spawn: Spawn, tmp_path: Path) -> None:
    """Every connection of worker A stalls (no bytes, no close: its commands wait out a 5 s socket
    timeout, longer than the heartbeat's 1.5 s TTL) while Redis is up for B. A must go on beating
    on a new connection, so B never takes A's running jobs for a dead worker's: each job runs once."""
    server, queue, pubsub = private
    env = worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="4", WORKER_CONCURRENCY="4", LOG_FORMAT="json")
    async with StallingProxy(server.port).running() as proxy:
        spawn("a", **env | {"REDIS_URL": proxy.url})
        ids = await accept(queue, 4)
        await all_running(queue, ids)  # all four on A: B is not started yet
        spawn("b", **env)
        await eventually(lambda: _registered(queue, 2), what="both workers registered")
        assert proxy.stall() > 0
        await assert_each_done_once(queue, ids, pubsub)
    records = [await queue.reads.get_job(job_id) for job_id in ids]
    assert [r["attempts"] for r in records if r] == [1, 1, 1, 1], "a live worker's jobs were recovered"
    assert "recovered jobs" not in (tmp_path / "b.log").read_text()


async def _registered(queue: Queue, n: int) -> bool:
    return await queue.redis.scard(queue.keys.workers) == n


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "GEMINI_", "SUMMARIZER"))}
    command = [sys.executable, "-m", "app", "healthcheck"]
    return subprocess.run(command, env=clean | env, capture_output=True, timeout=30)


async def test_a_workers_healthcheck_follows_its_heartbeat(private: Private, spawn: Spawn) -> None:
    server, queue, _ = private
    env = worker_env(server, queue.keys, METRICS_PORT=str(free_port()))
    spawn("worker", **env)

    async def healthy() -> bool:
        return (await asyncio.to_thread(healthcheck, env)).returncode == 0

    await eventually(healthy, what="the worker's healthcheck passing")
    metrics_url = f"http://127.0.0.1:{env['METRICS_PORT']}/metrics"
    async with aiohttp.ClientSession() as session, session.get(metrics_url) as got:
        assert got.status == 200
        assert "summarize_jobs_in_flight 0.0" in await got.text()  # its own metrics, beside /healthz
    server.kill()  # it cannot beat any more: after its heartbeat TTL (1.5 s) it is unhealthy

    async def unhealthy() -> bool:
        return (await asyncio.to_thread(healthcheck, env)).returncode == 1

    await eventually(unhealthy, what="the worker's healthcheck failing without Redis")
    assert b"Connection refused" not in (await asyncio.to_thread(healthcheck, env)).stderr  # it answered: 503


async def test_kill_9_with_prefetched_jobs_runs_each_once_counting_only_the_started(
    private: Private, spawn: Spawn
) -> None:
    """WORKER_PREFETCH: 10 jobs running and 5 reserved ahead, unstarted, when the worker is killed.
    Recovery puts all 15 back; each ends once, and only the 10 that had started count two attempts."""
    server, queue, pubsub = private
    ids = await accept(queue, 30)
    env = worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="30", WORKER_CONCURRENCY="10", WORKER_PREFETCH="5")
    first = spawn("first", **env)

    async def holding() -> bool:
        return (await statuses(queue, ids))["running"] == 10 and await _held(queue) == 15

    await eventually(holding, timeout_s=30, what="10 jobs running and 5 prefetched")
    first.send_signal(signal.SIGKILL)
    first.wait()
    spawn("second", **worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="0.05", WORKER_CONCURRENCY="30"))
    await assert_each_done_once(queue, ids, pubsub)
    records = [await queue.reads.get_job(job_id) or {} for job_id in ids]
    attempts = Counter(int(record["attempts"]) for record in records)
    assert attempts == Counter({1: 20, 2: 10}), "the prefetched jobs never ran before: one attempt"


async def _held(queue: Queue) -> int:
    """Messages held in every processing list (one worker here)."""
    total = 0
    async for key in queue.redis.scan_iter(match=queue.keys.processing("*")):
        total += await queue.redis.llen(key)
    return total
