"""W4 intake and W5 end-to-end: the HTTP API measured from outside, against real processes and a real Redis.

W4 (intake): one API process (`python -m app`, ROLE=api, no worker: the queue only fills) and, in the same run,
a bare aiohttp server on uvloop (`python -m bench.bare_server`: 202 and a small JSON body, no Redis), the ceiling
of aiohttp on this machine. Each is driven in turn for `seconds` (whole seconds) by `wrk` (a C load generator;
Debian package `wrk`) from `connections` keep-alive connections sending `POST /process {"text": "..."}`; wrk's
own histogram gives requests/s and p50/p99 latency. One request to each is checked first (202 with an id), every
wrk error (socket, timeout, or a status of 400 and above) fails the run, and the queue must hold at least as many
jobs as wrk counted answers. The CPU each process used during its run (API or bare server, redis-server, wrk) is
reported in cores, to show which one was the bottleneck on the machine: a load generator well below its thread
count is not.

W5 (end to end): one API process and one worker process (ROLE=worker, SUMMARIZER=noop, WORKER_CONCURRENCY=100);
`jobs` requests `POST /process?wait=30` from an aiohttp client in this process with at most `at_once` in flight.
Every answer must be 200 with status done. Reports jobs/s (first request sent to last answer) and p50/p99 latency.

Both FLUSHDB the database at start and end (it must be a bench-owned redis-server) and kill every process they
started on every path (SIGTERM to the process group, SIGKILL after a grace).

Usage: python -m bench.http_bench [SECONDS [CONNECTIONS [JOBS [AT_ONCE]]]]
(needs redis-server and wrk on PATH; starts its own redis-server on a free port)
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
import orjson
import redis.asyncio as aioredis

from bench.peers._process import OURS_PYTHON, PeerError, WorkerProcess, WorkerSpec

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]  # the repo root: children run `python -m app` / `-m bench...` from it
READY_TIMEOUT_S = 30.0  # a process answering /readyz (or a worker registered) after start
LOG_TAIL_CHARS = 3000
WRK_TIMEOUT = "30s"  # wrk's per-request timeout: a slow answer is measured, not counted as an error
WRK_SLACK_S = 30.0  # wrk gets its duration plus this before it is killed
W5_WAIT_S = 30  # ?wait= of W5's requests
W5_BUDGET_S = 60.0  # W5 fails after this plus 0.1 s per job
W4_QUEUE = "bench_w4"
W5_QUEUE = "bench_w5"
RESULT_LINE = "WRK_RESULT "


BenchError = PeerError  # one error type for every bench failure


def sample_text(chars: int) -> str:
    """A plain English text of exactly `chars` characters."""
    sentence = "Redis sits between the API and the workers, and every job is one JSON message on a list. "
    return (sentence * (chars // len(sentence) + 1))[:chars]


W4_BODY = orjson.dumps({"text": sample_text(200)})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of durations in seconds, in milliseconds."""
    if not samples_s:
        raise BenchError("no samples to take a percentile of")
    ordered = sorted(samples_s)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process from /proc/<pid>/stat; None when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 (state); utime, stime are 14, 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU seconds of this process's terminated and reaped children, so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Child(WorkerProcess):
    """`async with Child(name, argv, env) as child:` runs one process in its own session for the block and
    kills its whole process group on leaving it, on every path (the peers' WorkerProcess)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], *, stop_signal: int = signal.SIGTERM):
        super().__init__(name, WorkerSpec(argv=argv, env=env), stop_signal=stop_signal)


def app_process(name: str, redis_url: str, queue: str, *, stop_signal: int = signal.SIGTERM, **env: str) -> Child:
    """`python -m app` on `queue` of `redis_url`, logging warnings only; `env` adds ROLE, PORT, ..."""
    base = {"REDIS_URL": redis_url, "QUEUE_NAME": queue, "RESULT_CHANNEL": f"{queue}_results", "LOG_LEVEL": "WARNING"}
    return Child(name, [OURS_PYTHON, "-m", "app"], base | env, stop_signal=stop_signal)


async def guarded(step: Awaitable[T], children: Sequence[Child], timeout_s: float, what: str) -> T:
    """Await `step`, failing fast if one of `children` dies, and with BenchError after timeout_s."""
    task = asyncio.ensure_future(step)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.1)
            if done:
                return task.result()
            for child in children:
                child.check_alive()
            if time.monotonic() > deadline:
                tails = "".join(f"\n--- {child.name} output ends:\n{child.tail()}" for child in children)
                raise BenchError(f"{what}: not done after {timeout_s:g} s{tails}")
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _poll_http_ok(url: str) -> None:
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)


async def wait_http_ok(url: str, child: Child, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Wait until `GET url` answers 200 (e.g. /readyz: the API is up and Redis answers)."""
    await guarded(_poll_http_ok(url), [child], timeout_s, f"{child.name}: GET {url} answering 200")


async def _poll_workers(redis: aioredis.Redis, workers_key: str) -> list[str]:
    while True:
        members = await redis.smembers(workers_key)
        if members:
            return sorted(member.decode() for member in members)
        await asyncio.sleep(0.05)


async def wait_registered(redis: aioredis.Redis, queue: str, child: Child, timeout_s: float = READY_TIMEOUT_S) -> str:
    """Wait until a worker appears in `{queue}:workers`; return its id (exactly one is expected)."""
    key = "{" + queue + "}:workers"
    members = await guarded(_poll_workers(redis, key), [child], timeout_s, f"{child.name}: registering in {key}")
    if len(members) != 1:
        raise BenchError(f"expected one worker in {key}, found {members}")
    return members[0]


def cancel_on_sigterm() -> None:
    """From inside the main task: SIGTERM cancels it as Ctrl-C does, so the processes it started are killed on the
    way out (they run in their own sessions; nothing else would reach them)."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


@contextlib.asynccontextmanager
async def bench_db(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the bench-owned database, FLUSHDB on entry and on exit (best effort when the block failed)."""
    redis = aioredis.Redis.from_url(redis_url)
    try:
        await redis.flushdb()
        try:
            yield redis
        except BaseException:
            with contextlib.suppress(aioredis.RedisError, OSError):
                await redis.flushdb()
            raise
        await redis.flushdb()
    finally:
        await redis.aclose()


# --- W4: intake under wrk -------------------------------------------------------------------------------------


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not on PATH: apt-get install -y wrk")
    return path


def write_wrk_script(directory: Path, body: bytes) -> Path:
    """A wrk Lua script: POST `body` as JSON; at the end one RESULT_LINE with the numbers as JSON."""
    if b"]==]" in body:
        raise BenchError("the request body cannot hold ']==]'")
    script = directory / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{body.decode()}]==]\n"
        "function done(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        f'  io.write(string.format("{RESULT_LINE}'
        '{\\"duration_us\\": %.0f, \\"requests\\": %.0f, \\"p50_us\\": %.0f, \\"p99_us\\": %.0f, '
        '\\"connect\\": %.0f, \\"read\\": %.0f, \\"write\\": %.0f, \\"status\\": %.0f, \\"timeout\\": %.0f}\\n",\n'
        "    summary.duration, summary.requests, latency:percentile(50), latency:percentile(99),\n"
        "    e.connect, e.read, e.write, e.status, e.timeout))\n"
        "end\n"
    )
    return script


@dataclass(frozen=True)
class WrkRun:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    threads: int

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s


def parse_wrk(stdout: str, threads: int) -> WrkRun:
    line = next((line for line in stdout.splitlines() if line.startswith(RESULT_LINE)), None)
    if line is None:
        raise BenchError(f"wrk printed no result line; its output:\n{stdout[-LOG_TAIL_CHARS:]}")
    data = orjson.loads(line.removeprefix(RESULT_LINE))
    errors = {kind: int(data[kind]) for kind in ("connect", "read", "write", "status", "timeout")}
    return WrkRun(
        requests=int(data["requests"]),
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        threads=threads,
    )


async def run_wrk(url: str, seconds: float, connections: int, script: Path) -> WrkRun:
    """Run wrk against `url` (its duration is whole seconds) and return its numbers; any error fails."""
    threads = max(1, min(os.cpu_count() or 1, connections))
    duration_s = max(1, round(seconds))
    argv = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--timeout", WRK_TIMEOUT]
    process = await asyncio.create_subprocess_exec(
        *argv, "-s", str(script), url, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), duration_s + WRK_SLACK_S)
    except TimeoutError:
        raise BenchError(f"wrk against {url} not done after {duration_s + WRK_SLACK_S:g} s") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise BenchError(f"wrk exited with {process.returncode}: {stderr.decode(errors='replace')}")
    run = parse_wrk(stdout.decode(errors="replace"), threads)
    if any(run.errors.values()) or run.requests == 0:
        raise BenchError(f"wrk against {url}: {run.requests} answers, errors {run.errors}")
    return run


async def probe_intake(url: str, name: str) -> None:
    """One request with wrk's body: it must answer 202 with an id (checks the body and the Content-Type too)."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.post(url, data=W4_BODY, headers={"Content-Type": "application/json"}) as response,
    ):
        body = await response.read()
        if response.status != 202 or "id" not in orjson.loads(body):
            raise BenchError(f"{name}: POST {url} answered {response.status} {body[:300]!r}, expected 202 with an id")


def _local_redis(pid: int) -> int | None:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return None
    return pid if comm.startswith("redis") else None


async def redis_pid(redis: aioredis.Redis) -> int | None:
    """The redis-server's pid when it runs on this machine (for its CPU time), else None."""
    return _local_redis(int((await redis.info("server"))["process_id"]))


def _cores(before: float | None, after: float | None, wall_s: float) -> float | None:
    if before is None or after is None:
        return None
    return round((after - before) / wall_s, 2)


async def drive(
    url: str, server: Child, redis_server_pid: int | None, seconds: float, connections: int, script: Path
) -> dict[str, object]:
    """One wrk run against `server`, with the CPU cores the server, redis-server and wrk used meanwhile."""
    await probe_intake(url, server.name)
    pids = (server.pid, redis_server_pid)
    before = [cpu_seconds(pid) if pid else None for pid in pids]
    loadgen_before, started = children_cpu_seconds(), time.monotonic()
    run = await run_wrk(url, seconds, connections, script)
    wall_s = time.monotonic() - started
    after = [cpu_seconds(pid) if pid else None for pid in pids]
    server.check_alive()
    return {
        "requests_per_s": round(run.rate, 1),
        "p50_ms": round(run.p50_ms, 2),
        "p99_ms": round(run.p99_ms, 2),
        "requests": run.requests,
        "server_cpu_cores": _cores(before[0], after[0], wall_s),
        "redis_cpu_cores": _cores(before[1], after[1], wall_s),
        "wrk_cpu_cores": _cores(loadgen_before, children_cpu_seconds(), wall_s),
        "wrk_threads": run.threads,
    }


async def _w4_runs(redis: aioredis.Redis, redis_url: str, seconds: float, connections: int, script: Path) -> dict:
    """Start the API and the bare server, wait until both answer, drive the bare server, then the API."""
    api_port, bare_port = free_ports(2)
    async with AsyncExitStack() as stack:
        api = await stack.enter_async_context(app_process("api", redis_url, W4_QUEUE, ROLE="api", PORT=str(api_port)))
        bare = await stack.enter_async_context(
            Child("bare server", [OURS_PYTHON, "-m", "bench.bare_server", str(bare_port)], {})
        )
        await wait_http_ok(f"http://127.0.0.1:{bare_port}/healthz", bare)
        await wait_http_ok(f"http://127.0.0.1:{api_port}/readyz", api)
        pid = await redis_pid(redis)
        bare_result = await drive(f"http://127.0.0.1:{bare_port}/process", bare, None, seconds, connections, script)
        service = await drive(f"http://127.0.0.1:{api_port}/process", api, pid, seconds, connections, script)
    queued = await redis.llen(W4_QUEUE)
    if queued < service["requests"]:
        raise BenchError(f"the queue holds {queued} jobs but wrk counted {service['requests']} answers")
    return {"service": service | {"queued": queued}, "bare": bare_result}


async def w4_intake(redis_url: str, seconds: float = 10, connections: int = 64) -> dict:
    """Intake requests/s and latency of one API process (no worker) and of a bare aiohttp server, under wrk."""
    require_wrk()
    async with bench_db(redis_url) as redis:
        with tempfile.TemporaryDirectory(prefix="bench-w4-") as tmp:
            script = write_wrk_script(Path(tmp), W4_BODY)
            runs = await _w4_runs(redis, redis_url, seconds, connections, script)
    return {
        "workload": "W4 intake",
        "seconds": max(1, round(seconds)),
        "connections": connections,
        "text_chars": len(sample_text(200)),
        **runs,
        "ratio_service_bare": round(runs["service"]["requests_per_s"] / runs["bare"]["requests_per_s"], 3),
    }


# --- W5: submit and wait, end to end ------------------------------------------------------------------------------


async def _one_job(session: aiohttp.ClientSession, url: str, body: bytes, gate: asyncio.Semaphore) -> float:
    async with gate:
        started = time.perf_counter()
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            raw = await response.read()
        latency_s = time.perf_counter() - started
    if response.status != 200:
        raise BenchError(f"POST {url} answered {response.status} {raw[:300]!r}, expected 200 with status done")
    record = orjson.loads(raw)
    if record.get("status") != "done":
        raise BenchError(f"POST {url}: job {record.get('id')} ended {record.get('status')!r}: {raw[:300]!r}")
    return latency_s


async def _submit_all(url: str, jobs: int, at_once: int) -> tuple[list[float], float]:
    """`jobs` requests with at most `at_once` in flight; their latencies and the wall time of the whole."""
    gate = asyncio.Semaphore(at_once)
    body = orjson.dumps({"text": sample_text(200)})
    timeout = aiohttp.ClientTimeout(total=W5_WAIT_S + 10)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=at_once), timeout=timeout) as session:
        started = time.perf_counter()
        try:
            async with asyncio.TaskGroup() as group:  # the first failure cancels the rest
                tasks = [group.create_task(_one_job(session, url, body, gate)) for _ in range(jobs)]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        elapsed_s = time.perf_counter() - started
    return [task.result() for task in tasks], elapsed_s


async def w5_end_to_end(redis_url: str, jobs: int = 1000, at_once: int = 100) -> dict:
    """jobs/s and request latency of `POST /process?wait=30` through one API process and one no-op worker."""
    port = free_port()
    async with bench_db(redis_url) as redis, AsyncExitStack() as stack:
        api = await stack.enter_async_context(app_process("api", redis_url, W5_QUEUE, ROLE="api", PORT=str(port)))
        worker = await stack.enter_async_context(
            app_process("worker", redis_url, W5_QUEUE, ROLE="worker", SUMMARIZER="noop", WORKER_CONCURRENCY="100")
        )
        await wait_http_ok(f"http://127.0.0.1:{port}/readyz", api)
        await wait_registered(redis, W5_QUEUE, worker)
        url = f"http://127.0.0.1:{port}/process?wait={W5_WAIT_S}"
        budget_s = W5_BUDGET_S + 0.1 * jobs
        latencies, elapsed_s = await guarded(_submit_all(url, jobs, at_once), [api, worker], budget_s, "W5 jobs")
    return {
        "workload": "W5 end to end",
        "jobs": jobs,
        "at_once": at_once,
        "jobs_per_s": round(jobs / elapsed_s, 1),
        "p50_ms": round(percentile_ms(latencies, 50), 2),
        "p99_ms": round(percentile_ms(latencies, 99), 2),
        "elapsed_s": round(elapsed_s, 3),
    }


def _print_w4(result: dict) -> None:
    print(
        f"W4 intake: {result['seconds']} s, {result['connections']} connections (wrk), "
        f"{result['text_chars']}-char texts"
    )
    for name in ("service", "bare"):
        row = result[name]
        print(
            f"  {name:8} {row['requests_per_s']:>9,.0f} req/s  p50 {row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms"
            f"  cpu: server {row['server_cpu_cores']}, redis {row['redis_cpu_cores']}, wrk {row['wrk_cpu_cores']}"
            f" cores ({row['wrk_threads']} wrk threads)"
        )
    queued = result["service"]["queued"]
    print(f"  service/bare: {result['ratio_service_bare']:.3f}   jobs the service queued: {queued}")


def _print_w5(result: dict) -> None:
    print(
        f"W5 end to end: {result['jobs']} jobs, {result['at_once']} in flight, POST /process?wait={W5_WAIT_S}, "
        f"noop worker: {result['jobs_per_s']:,.0f} jobs/s  p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms"
        f"  ({result['elapsed_s']:.2f} s)"
    )


async def _run_all(redis_url: str, seconds: float, connections: int, jobs: int, at_once: int) -> None:
    cancel_on_sigterm()
    started = time.monotonic()
    _print_w4(await w4_intake(redis_url, seconds, connections))
    print(f"  (W4 took {time.monotonic() - started:.1f} s)")
    started = time.monotonic()
    _print_w5(await w5_end_to_end(redis_url, jobs, at_once))
    print(f"  (W5 took {time.monotonic() - started:.1f} s)")


def main(argv: list[str]) -> int:
    import uvloop

    from tests.redis_server import RedisServer

    seconds = float(argv[0]) if len(argv) > 0 else 10.0
    connections = int(argv[1]) if len(argv) > 1 else 64
    jobs = int(argv[2]) if len(argv) > 2 else 1000
    at_once = int(argv[3]) if len(argv) > 3 else 100
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(_run_all(server.url, seconds, connections, jobs, at_once))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
