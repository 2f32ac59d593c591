"""Worker memory per running job: the RSS one worker process adds for each job it holds in flight.

One worker process (ROLE=worker, SUMMARIZER=sleep with SLEEP_SUMMARIZER_S=`delay_s`, WORKER_CONCURRENCY=`jobs`)
starts on an empty database. Once it has registered in `{bench_mem}:workers` and idled 1 s, its RSS (VmRSS of
/proc/<pid>/status) is read: the idle RSS. Then `jobs` messages with a 200-character text are LPUSHed at once;
when the worker's processing list holds all of them and every job record says running, plus 0.5 s for the tasks
to settle, the RSS is read again: the loaded RSS. (loaded - idle) / jobs is the memory one running job costs,
text included. The sleep must outlast the measurement: the processing list is checked still full after it.
The worker is SIGKILLed at the end and the database flushed (it must be a bench-owned redis-server).

Usage: python -m bench.memory [JOBS [DELAY_S]]   (needs redis-server on PATH; starts its own)
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

from app.queue.contract import Keys
from app.queue.message import new_message
from bench.http_bench import BenchError, app_process, bench_db, cancel_on_sigterm, guarded, sample_text, wait_registered

QUEUE = "bench_mem"
TEXT_CHARS = 200
IDLE_S = 1.0  # the worker idles this long after registering before the idle RSS is read
SETTLE_S = 0.5  # after every job is running, before the loaded RSS is read
PUSH_BATCH = 1000  # messages per LPUSH
LOAD_TIMEOUT_S = 60.0  # every job running after the push


def rss_bytes(pid: int) -> int:
    """VmRSS of a live process, in bytes."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as exc:
        raise BenchError(f"cannot read /proc/{pid}/status: {exc}") from None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit != "kB":
                raise BenchError(f"unexpected VmRSS unit {unit!r} in /proc/{pid}/status")
            return int(value) * 1024
    raise BenchError(f"no VmRSS in /proc/{pid}/status")


async def push_jobs(redis: aioredis.Redis, keys: Keys, jobs: int, text: str) -> list[str]:
    """LPUSH `jobs` messages (no record: the worker's `start` writes it), PUSH_BATCH per command; their ids."""
    messages = [new_message(text) for _ in range(jobs)]
    for start in range(0, jobs, PUSH_BATCH):
        await redis.lpush(keys.queue, *(message.encode() for message in messages[start : start + PUSH_BATCH]))
    return [message.id for message in messages]


async def _running_count(redis: aioredis.Redis, keys: Keys, job_ids: list[str]) -> int:
    pipe = redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(keys.job(job_id), "status")
    return sum(status == b"running" for status in await pipe.execute())


async def _all_running(redis: aioredis.Redis, keys: Keys, worker_id: str, job_ids: list[str]) -> None:
    """Return once the worker's processing list holds every job and every record says running."""
    processing = keys.processing(worker_id)
    while True:
        if await redis.llen(processing) >= len(job_ids) and await _running_count(redis, keys, job_ids) >= len(job_ids):
            return
        await asyncio.sleep(0.05)


async def worker_rss_per_job(redis_url: str, jobs: int = 2000, delay_s: float = 10) -> dict:
    """Idle and loaded RSS of one worker holding `jobs` sleeping jobs, and the difference per job."""
    keys = Keys(QUEUE, f"{QUEUE}_results")
    text = sample_text(TEXT_CHARS)
    async with bench_db(redis_url) as redis:
        env = {"ROLE": "worker", "METRICS_PORT": "0", "SUMMARIZER": "sleep", "SLEEP_SUMMARIZER_S": f"{delay_s:g}"}
        # SIGKILL at the end: on SIGTERM its running jobs would get SHUTDOWN_GRACE to finish.
        worker = app_process(
            "worker", redis_url, QUEUE, stop_signal=signal.SIGKILL, **env, WORKER_CONCURRENCY=str(jobs)
        )
        async with worker:
            worker_id = await wait_registered(redis, QUEUE, worker)
            await asyncio.sleep(IDLE_S)
            worker.check_alive()
            idle = rss_bytes(worker.pid)
            pushed = time.monotonic()
            job_ids = await push_jobs(redis, keys, jobs, text)
            await guarded(_all_running(redis, keys, worker_id, job_ids), [worker], LOAD_TIMEOUT_S, "all jobs running")
            all_running_s = time.monotonic() - pushed
            await asyncio.sleep(SETTLE_S)
            worker.check_alive()
            loaded = rss_bytes(worker.pid)
            held = await redis.llen(keys.processing(worker_id))
            if held < jobs:
                raise BenchError(f"only {held} of {jobs} jobs still running at the measurement: raise delay_s")
    return {
        "workload": "worker RSS per running job",
        "jobs": jobs,
        "delay_s": delay_s,
        "idle_rss_bytes": idle,
        "loaded_rss_bytes": loaded,
        "bytes_per_job": round((loaded - idle) / jobs),
        "text_chars_per_job": len(text),
        "message_bytes_per_job": len(new_message(text).encode()),
        "all_running_s": round(all_running_s, 3),
    }


def _print(result: dict) -> None:
    mib = 1024 * 1024
    print(
        f"worker RSS: {result['jobs']} running jobs (sleep {result['delay_s']:g} s, {result['text_chars_per_job']}-char"
        f" texts, {result['message_bytes_per_job']}-byte messages): idle {result['idle_rss_bytes'] / mib:.1f} MiB,"
        f" loaded {result['loaded_rss_bytes'] / mib:.1f} MiB, {result['bytes_per_job']:,} bytes per job"
        f" (all running {result['all_running_s']:.2f} s after the push)"
    )


async def _run(redis_url: str, jobs: int, delay_s: float) -> None:
    cancel_on_sigterm()
    started = time.monotonic()
    _print(await worker_rss_per_job(redis_url, jobs, delay_s))
    print(f"  (took {time.monotonic() - started:.1f} s)")


def main(argv: list[str]) -> int:
    from tests.redis_server import RedisServer

    jobs = int(argv[0]) if len(argv) > 0 else 2000
    delay_s = float(argv[1]) if len(argv) > 1 else 10.0
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            asyncio.run(_run(server.url, jobs, delay_s))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
