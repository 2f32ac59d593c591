"""The soak's processes: one redis-server with AOF, 2 API and 3 worker `python -m app` processes.

Defaults everywhere but what a harness must set: ports, REDIS_URL, the Gemini fake and a key,
GEMINI_RPM (so the shared quota is on), JSON logs (so the harness can read them), a shorter
SHUTDOWN_GRACE and more MAX_ATTEMPTS (see `worker_env`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from tests.helpers import until_ok
from tests.redis_server import RedisServer, free_port

STARTUP_S = 45.0  # a process's start, generous: two cores shared by six processes under load


@dataclass
class Proc:
    """One `python -m app` process. `port`: an API's PORT or a worker's METRICS_PORT."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int
    worker_id: str = ""
    signalled: bool = False  # stopped by the harness: its exit is no surprise

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def exited(self) -> bool:
        """Gone without the harness stopping it: a crash."""
        return not self.signalled and not self.alive


def worker_env(gemini_url: str, metrics_port: int) -> dict[str, str]:
    """A worker as deployed, but for:
    - GEMINI_RPM=600: the fleet's shared quota on (10 calls/s, above the soak's load).
    - SHUTDOWN_GRACE=5: a SIGTERM's drain stays within the run (the fake answers within 1 s).
    - MAX_ATTEMPTS=5: the fake refuses ~9 % of calls and each kill -9 or recovery costs an
      attempt, so with 3 some jobs would fail for the fault mix rather than for a bug;
      failures stay possible and are checked to carry a reason."""
    return {
        "ROLE": "worker",
        "SUMMARIZER": "gemini",
        "GEMINI_API_KEY": "chaos-fake-key",
        "GEMINI_BASE_URL": gemini_url,
        "GEMINI_RPM": "600",
        "MAX_ATTEMPTS": "5",
        "SHUTDOWN_GRACE": "5",
        "METRICS_PORT": str(metrics_port),
    }


class Fleet:
    """Starts, signals and restarts the processes; `close()` kills whatever still runs."""

    def __init__(self, workdir: Path, gemini_url: str, apis: int = 2, workers: int = 3) -> None:
        self.workdir = workdir
        self.gemini_url = gemini_url
        self.redis = RedisServer(workdir / "redis", appendonly=True)  # appendfsync always
        self.apis: list[Proc] = []
        self.workers: list[Proc | None] = [None] * workers
        self.api_count = apis
        self.everything: list[Proc] = []  # every process ever started, for logs and cleanup
        self._starts = 0

    @property
    def redis_url(self) -> str:
        return self.redis.url

    async def start(self) -> None:
        await asyncio.to_thread(self.redis.start)
        self.apis = [self._spawn(f"api{i}", {"ROLE": "api", "PORT": str(free_port())}) for i in range(self.api_count)]
        await asyncio.gather(
            *(self.start_worker(slot) for slot in range(len(self.workers))), *(self._api_ready(p) for p in self.apis)
        )

    def _spawn(self, name: str, role_env: dict[str, str]) -> Proc:
        self._starts += 1
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "GEMINI_", "SUMMARIZER"))}
        clean = {k: v for k, v in clean.items() if k not in ("QUEUE_NAME", "RESULT_CHANNEL", "ROLE", "PORT")}
        env = clean | {"REDIS_URL": self.redis_url, "LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"} | role_env
        log_path = self.workdir / f"{self._starts:03d}-{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "app"], env=env, stdout=log, stderr=log)
        port = int(role_env.get("PORT") or role_env["METRICS_PORT"])
        proc = Proc(name, process, log_path, port)
        self.everything.append(proc)
        return proc

    async def start_worker(self, slot: int) -> Proc:
        """A new worker in `slot`, returned once it logged its worker id."""
        proc = self._spawn(f"worker{slot}", worker_env(self.gemini_url, free_port()))
        proc.worker_id = await _logged_worker_id(proc)
        self.workers[slot] = proc
        return proc

    async def _api_ready(self, proc: Proc) -> None:
        def died() -> str | None:
            return None if proc.alive else f"{proc.name} exited at start: see {proc.log_path}"

        await until_ok(f"http://127.0.0.1:{proc.port}/readyz", STARTUP_S, died)

    async def stop_worker(self, slot: int, sig: signal.Signals) -> Proc | None:
        """Send `sig` to the slot's worker and wait for it to exit (SIGKILL after 30 s)."""
        proc = self.workers[slot]
        if proc is None or not proc.alive:
            return None
        self.workers[slot] = None
        proc.signalled = True
        proc.process.send_signal(sig)
        try:
            await asyncio.to_thread(proc.process.wait, 30)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            await asyncio.to_thread(proc.process.wait, 10)
        return proc

    async def restart_redis(self, how: str, down_s: float) -> None:
        """Stop Redis by SIGKILL or SIGTERM, leave it down `down_s`, start it on the same port and directory."""
        await asyncio.to_thread(self.redis.stop, signal.SIGKILL if how == "KILL" else signal.SIGTERM)
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.redis.start)

    async def ensure_redis(self) -> None:
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.redis.process = None
            await asyncio.to_thread(self.redis.start)

    def live_workers(self) -> list[Proc]:
        return [proc for proc in self.workers if proc is not None]

    def close(self) -> None:
        """Kill every process still running (the harness's `finally`)."""
        for proc in self.everything:
            if proc.alive:
                proc.process.kill()
        for proc in self.everything:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.process.wait(timeout=10)
        if self.redis.process is not None and self.redis.process.poll() is None:
            self.redis.kill()


async def _logged_worker_id(proc: Proc) -> str:
    """The worker id from the process's "worker started" log line (JSON logs)."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        for entry in read_log(proc.log_path):
            if entry.get("event") == "worker started":
                return str(entry["worker_id"])
        if not proc.alive:
            raise RuntimeError(f"{proc.name} exited at start: see {proc.log_path}")
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not log 'worker started' within {STARTUP_S} s: see {proc.log_path}")


def read_log(path: Path) -> list[dict[str, object]]:
    """The JSON lines of a process's log; other lines (a traceback printed raw) as {"raw": line}."""
    entries: list[dict[str, object]] = []
    for line in path.read_bytes().splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            entry = {"raw": line.decode(errors="replace")}
        entries.append(entry if isinstance(entry, dict) else {"raw": str(entry)})
    return entries
