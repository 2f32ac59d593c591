"""`make compose-test`: the real Dockerfile and compose.yaml, built and run, then broken.

Validate and lint, build, start the stack, check that Redis requires its password and runs with
maxmemory and noeviction, send the original design's curl request and wait for its summary,
scale to 3 workers with a slow summarizer, submit 200 jobs, `docker kill` one worker and restart
the Redis container mid-run, and check that every job ends `done` exactly once (its record is
done; no worker logged finishing it twice); then fill Redis (maxmemory lowered to nothing) and
check that the API answers 503 /problems/redis-full. Tears down always. Runs with its own random
REDIS_PASSWORD (the environment beats .env, which it never writes). Needs a Docker engine (here:
../shared/tools/container-standins.sh, then `source /opt/standins/env.sh`).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import redis

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "sqcompose"
FILES = ["-f", str(ROOT / "compose.yaml"), "-f", str(ROOT / "tests/compose/compose.test.yaml")]
JOBS = 200
ORIGINAL_REQUEST = '{"text": "Your text to summarize here."}'
# The stack's secret for this run, and a memory limit other than the default, to see it honoured.
PASSWORD = secrets.token_hex(32)
MAXMEMORY = ("200mb", 200 * 1024 * 1024)


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    print("+", " ".join(args), flush=True)
    done = subprocess.run(args, cwd=ROOT, env=os.environ | (env or {}), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def compose(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    return run("docker", "compose", "-p", PROJECT, *FILES, *args, env=env, timeout=timeout)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def step(title: str, started: float) -> None:
    print(f"\n== {title} (at {time.monotonic() - started:.1f} s)", flush=True)


def original_curl(port: int) -> str:
    """The original design's request, as its README sends it."""
    answer = run(
        "curl", "-sS", "-X", "POST", f"http://localhost:{port}/process",
        "-H", "Content-Type: application/json", "-d", ORIGINAL_REQUEST,
    )  # fmt: skip
    reply = json.loads(answer)
    assert reply["status"] == "queued", reply
    return str(reply["id"])


async def wait_done(session: aiohttp.ClientSession, base: str, job_id: str, timeout_s: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/jobs/{job_id}?wait=10") as response:
                if response.status == 200:
                    record = await response.json()
                    if record["status"] in ("done", "failed"):
                        return record
        except aiohttp.ClientError:
            pass  # the API rides out the Redis restart; so do we
        await asyncio.sleep(0.5)
    raise AssertionError(f"job {job_id} did not end within {timeout_s} s")


async def submit(session: aiohttp.ClientSession, base: str, n: int) -> list[str]:
    async def one(i: int) -> str:
        body = {"text": f"Job {i} of the compose test. It is slow on purpose. Nothing else."}
        async with session.post(f"{base}/process", json=body) as response:
            assert response.status == 202, await response.text()
            return str((await response.json())["id"])

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def done_count(port: int) -> int:
    with redis.Redis(port=port, password=PASSWORD) as client:
        return sum(1 for key in client.scan_iter("{job_queue}:job:*") if client.hget(key, "status") == b"done")


async def until(check: Callable[[], bool], what: str, timeout_s: float) -> None:
    """Poll an outside system (containers) until `check` holds, or fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        await asyncio.sleep(0.2)


def finished_per_job() -> collections.Counter[str]:
    """How many times the workers' logs (killed ones included) say they finished each job."""
    finished: collections.Counter[str] = collections.Counter()
    for line in compose("logs", "--no-color", "--no-log-prefix", "worker").splitlines():
        try:
            event = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        if event.get("event") == "job done":
            finished[str(event["job_id"])] += 1
    return finished


def print_story(job_ids: set[str]) -> None:
    """What the workers logged about these jobs, and about outages and recoveries, in order: the
    evidence a failure needs (the stack is torn down after it)."""
    worth = ("recovered", "redis", "handed back", "worker st")
    for line in compose("logs", "--no-color", "--timestamps", "worker").splitlines():
        if any(job_id in line for job_id in job_ids) or any(word in line for word in worth):
            print(line)


def check_redis(redis_port: int) -> None:
    """Redis refuses clients without the password, and keeps every key: maxmemory with noeviction.
    The password is on no command line (the container's command names only its config file)."""
    for password in (None, "not-" + PASSWORD):
        try:
            with redis.Redis(port=redis_port, password=password) as client:
                client.ping()
        except redis.AuthenticationError as exc:
            print(f"password {'absent' if password is None else 'wrong'}: refused ({exc})")
        else:
            raise AssertionError(f"Redis answered a client with password {password!r}")
    with redis.Redis(port=redis_port, password=PASSWORD, decode_responses=True) as client:
        assert client.ping()
        settings = client.config_get("maxmemory*")
    assert settings["maxmemory-policy"] == "noeviction", settings
    assert int(settings["maxmemory"]) == MAXMEMORY[1], settings
    print(f"maxmemory {settings['maxmemory']} ({MAXMEMORY[0]}), maxmemory-policy {settings['maxmemory-policy']}")
    [container] = compose("ps", "-q", "redis").split()
    command = run("docker", "inspect", container, "--format", "{{json .Config.Cmd}} {{json .Args}}")
    assert PASSWORD not in command, "the password is on the Redis container's command line"


def redis_host_port() -> int:
    """Redis's port on the host (ephemeral: it may change when the container restarts)."""
    return int(compose("port", "redis", "6379").strip().rsplit(":", 1)[1])


async def check_redis_full(session: aiohttp.ClientSession, base: str) -> None:
    """A full Redis (maxmemory lowered below what it uses) refuses the job: 503 redis-full, with
    Retry-After; with room again the API accepts jobs without a restart. The workers are stopped
    first: this is the API's answer, and the stack is torn down after it."""
    compose("stop", "-t", "30", "worker", timeout=120)
    with redis.Redis(port=redis_host_port(), password=PASSWORD) as client:
        client.config_set("maxmemory", "1")
        try:
            async with session.post(f"{base}/process", json={"text": "No room for me."}) as response:
                problem = await response.json(content_type=None)
                assert response.status == 503, (response.status, problem)
                assert problem["type"] == "/problems/redis-full", problem
                assert int(response.headers["Retry-After"]) > 0
        finally:
            client.config_set("maxmemory", str(MAXMEMORY[1]))
    async with session.post(f"{base}/process", json={"text": "Room again."}) as response:
        assert response.status == 202, await response.text()
    print("a full Redis: 503 /problems/redis-full with Retry-After; with room again, 202")


async def scenario(started: float, port: int) -> None:
    base = f"http://localhost:{port}"
    redis_port = redis_host_port()
    step("Redis: password required, maxmemory with noeviction", started)
    check_redis(redis_port)
    async with aiohttp.ClientSession() as session:
        step("the original design's curl request", started)
        record = await wait_done(session, base, original_curl(port), 60)
        print(f"summary: {record['summary']!r} ({record['model']})")
        assert record["status"] == "done"

        step("3 workers with a slow summarizer (2 s a job, 10 at once each)", started)
        compose("up", "-d", "--wait", "--no-deps", "--scale", "worker=3", "worker", env={"TEST_SUMMARIZER": "sleep"})

        step(f"{JOBS} jobs; kill -9 one worker, restart Redis, mid-run", started)
        ids = await submit(session, base, JOBS)
        await until(lambda: done_count(redis_port) >= 20, "20 jobs done", 120)
        victim = compose("ps", "-q", "worker").split()[0]
        run("docker", "kill", victim)
        print(f"killed worker container {victim[:12]} with {done_count(redis_port)} of {JOBS} jobs done")
        await asyncio.sleep(2)
        # A clean restart (SIGTERM: Redis writes its AOF out), with the time to do it said outright:
        # podman's Docker API sends SIGKILL at once to containers without stop_grace_period, and a
        # killed Redis with appendfsync everysec may forget its last second, and so run jobs again.
        compose("restart", "-t", "10", "redis", timeout=120)
        print("restarted the redis container")
        records = await asyncio.gather(*(wait_done(session, base, job_id, 240) for job_id in ids))

    step("every job done exactly once", started)
    statuses = collections.Counter(str(r["status"]) for r in records)
    assert statuses == {"done": JOBS}, statuses
    finished = finished_per_job()
    assert len(finished) >= JOBS - 30, f"only {len(finished)} jobs logged as finished: are the logs JSON lines?"
    twice = {job_id: n for job_id, n in finished.items() if n > 1}
    if twice:
        print_story(set(twice))
    assert not twice, f"jobs finished more than once: {twice}"
    retried = sum(1 for r in records if int(r["attempts"]) > 1)  # type: ignore[call-overload]
    assert retried > 0, "the killed worker held no job: the test proved nothing"
    print(f"{JOBS} done, none twice; {retried} ran again after the kill (recovered from the dead worker)")

    step("a full Redis", started)
    async with aiohttp.ClientSession() as session:
        await check_redis_full(session, base)


def main() -> int:
    if shutil.which("docker") is None:
        print("docker is not on PATH: run ../shared/tools/container-standins.sh and source /opt/standins/env.sh")
        return 2
    started = time.monotonic()
    port = free_port()
    os.environ["PORT"] = str(port)  # the API's host port, for compose's interpolation
    os.environ["REDIS_PASSWORD"] = PASSWORD  # beats a REDIS_PASSWORD in .env
    os.environ["REDIS_MAXMEMORY"] = MAXMEMORY[0]
    step("validate and lint", started)
    compose("config", "-q")
    run("hadolint", str(ROOT / "Dockerfile"))
    try:
        step("build", started)
        compose("build", timeout=900)
        size = run("docker", "image", "inspect", "summarize-queue:latest", "--format", "{{.Size}}")
        print(f"image summarize-queue:latest: {int(size) / 1e6:.0f} MB")
        step("start", started)
        compose("up", "-d", "--wait", timeout=300)
        asyncio.run(scenario(started, port))
    finally:
        step("tear down", started)
        compose("down", "-v", "-t", "10", timeout=300)
    print(f"\ncompose-test passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
