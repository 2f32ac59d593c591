"""One peer worker process: spawned in its own session, its output kept in a temp file, killed with its children."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]  # the repo root, so the child can import bench.peers
# The interpreter of this project's own processes: `make bench` runs the harness in a venv of its own
# (arq holds redis-py below 6 there) and ours with the project's, as users install it (redis-py 8).
OURS_PYTHON = os.environ.get("BENCH_OURS_PYTHON") or sys.executable
STOP_GRACE_S = 5.0
LOG_TAIL_CHARS = 3000


class PeerError(RuntimeError):
    """A peer failed: its worker died, a job failed, or a step did not finish in time."""


@dataclass(frozen=True)
class WorkerSpec:
    """How to start one worker process of a peer: a command line and extra environment variables."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def _open_log() -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="bench-peer-", suffix=".log")


def _read_tail(log: IO[bytes]) -> str:
    log.flush()
    size = log.seek(0, os.SEEK_END)
    log.seek(max(0, size - LOG_TAIL_CHARS))
    return log.read().decode(errors="replace")


def _signal_group(pid: int, sig: int) -> None:
    """Signal the process group that the worker leads (start_new_session), so forked children go too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class WorkerProcess:
    """`async with WorkerProcess(name, spec) as worker:` runs the worker for the block and kills it on every path."""

    def __init__(self, name: str, spec: WorkerSpec, *, stop_signal: int = signal.SIGTERM) -> None:
        self.name = name
        self.spec = spec
        self.stop_signal = stop_signal
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    async def __aenter__(self) -> WorkerProcess:
        self._log = _open_log()
        env = os.environ | {"PYTHONPATH": str(ROOT)} | self.spec.env
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            self._log.close()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.stop()
        finally:
            if self._log is not None:
                self._log.close()

    @property
    def pid(self) -> int:
        assert self._process is not None, "start it with `async with` first"
        return self._process.pid

    def tail(self) -> str:
        return _read_tail(self._log) if self._log is not None else ""

    def check_alive(self) -> None:
        """Raise PeerError, with the end of the worker's output, if the worker has exited."""
        assert self._process is not None
        if self._process.returncode is not None:
            code = self._process.returncode
            raise PeerError(f"{self.name} worker exited with {code}; its output ends:\n{self.tail()}")

    async def stop(self) -> None:
        """Send stop_signal to the worker's group, SIGKILL it after STOP_GRACE_S, and SIGKILL any child left."""
        process = self._process
        if process is None:
            return
        try:
            if process.returncode is None and self.stop_signal != signal.SIGKILL:
                _signal_group(process.pid, self.stop_signal)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), STOP_GRACE_S)
        finally:
            _signal_group(process.pid, signal.SIGKILL)
            if process.returncode is None:
                await process.wait()
