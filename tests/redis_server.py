"""A real redis-server the tests start on a free port, so they can stop, restart and kill it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_binary(name: str) -> str:
    """The path of `name`, or fail the test in CI (CI=true) / skip it elsewhere, saying why."""
    path = shutil.which(name)
    if path is None:
        package = {"redis-server": "redis-server", "redis-cli": "redis-tools"}.get(name, name)
        reason = f"{name} is not on PATH (apt-get install {package})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run the tests that need it")
        pytest.skip(reason)
    return path


class RedisServer:
    """One redis-server process. AOF is optional so a restart can prove persistence."""

    def __init__(
        self, workdir: Path, *, appendonly: bool = False, port: int | None = None, extra: tuple[str, ...] = ()
    ) -> None:
        self.binary = require_binary("redis-server")
        self.workdir = workdir
        self.appendonly = appendonly
        self.port = port or free_port()
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        args += ["--save", "", "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always"]
        args += ["--logfile", str(self.workdir / "redis.log"), *self.extra]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                log = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} not ready after {timeout_s} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    while True:
        port = free_port()
        if port + 10_000 <= 65_535:
            try:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + 10_000))
            except OSError:
                continue
            return port


class RedisCluster:
    """Three masters, no replicas, every slot covered: made with redis-cli --cluster create."""

    def __init__(self, workdir: Path, masters: int = 3) -> None:
        options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
        self.nodes = [
            RedisServer(workdir / f"node{i}", port=free_cluster_port(), extra=options) for i in range(masters)
        ]

    @property
    def url(self) -> str:
        """A seed URL naming only the first node: the client must find the rest."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()  # no node outlives a failed start
            raise

    def _start(self) -> None:
        cli = require_binary("redis-cli")
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        deadline = time.monotonic() + 20
        while not all(self._info(node).startswith(b"cluster_state:ok") for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the test cluster did not reach cluster_state:ok in 20 s")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    def cli(self, node: RedisServer, *args: str) -> str:
        done = subprocess.run(
            [require_binary("redis-cli"), "-p", str(node.port), *args], check=True, capture_output=True, timeout=30
        )
        return done.stdout.decode()

    def _info(self, node: RedisServer) -> bytes:
        return self.cli(node, "CLUSTER", "INFO").encode()
