"""A real redis-server the tests start on a free port, so they can stop, restart and kill it."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_binary(name: str) -> str:
    """The path of `name`, or fail the test in CI (CI=true) / skip it elsewhere, saying why."""
    path = shutil.which(name)
    if path is None:
        package = {"redis-server": "redis-server", "redis-cli": "redis-tools", "promtool": "prometheus"}.get(name, name)
        _missing(f"{name} is not on PATH (apt-get install {package})")
    return path


def _missing(reason: str) -> NoReturn:
    """Fail the test in CI (CI=true), skip it elsewhere, saying why."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the tests that need it")
    pytest.skip(reason)


@functools.cache
def _tls_built_in(binary: str) -> bool:
    """Whether this redis-server knows TLS: a build without it (BUILD_TLS=no) refuses the
    tls-* directives ("Bad directive"); one with it exits for having no port to listen on."""
    probe = subprocess.run(
        [binary, "--port", "0", "--tls-port", "0", "--save", "", "--appendonly", "no"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return "Bad directive" not in probe.stdout + probe.stderr


def require_tls() -> str:
    """The path of a redis-server built with TLS, or fail in CI / skip elsewhere, saying why."""
    binary = require_binary("redis-server")
    if not _tls_built_in(binary):
        _missing(f"{binary} was built without TLS support (tls-port is a bad directive to it)")
    return binary


@dataclass(frozen=True)
class Tls:
    """A TLS listener's files: the server's certificate and key, and the CA that signed it."""

    cert: Path
    key: Path
    ca: Path

    def context(self) -> ssl.SSLContext:
        """A client context that trusts the CA (and checks the host name, 127.0.0.1)."""
        return ssl.create_default_context(cafile=str(self.ca))


class RedisServer:
    """One redis-server process. AOF is optional so a restart can prove persistence. With `tls`
    it listens only on TLS (`--port 0 --tls-port`), without asking clients for certificates."""

    def __init__(
        self,
        workdir: Path,
        *,
        appendonly: bool = False,
        port: int | None = None,
        extra: tuple[str, ...] = (),
        tls: Tls | None = None,
    ) -> None:
        self.binary = require_tls() if tls is not None else require_binary("redis-server")
        self.workdir = workdir
        self.appendonly = appendonly
        self.port = port or free_port()
        self.extra = extra
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.tls is not None:
            return self.tls_url(self.tls.ca)
        return f"redis://127.0.0.1:{self.port}/0"

    def tls_url(self, ca: Path) -> str:
        """A rediss:// URL that trusts `ca` (redis-py passes ssl_* query options to its SSLConnection)."""
        return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={quote(str(ca))}&ssl_check_hostname=true"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        if self.tls is None:
            args += ["--port", str(self.port)]
        else:
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            args += ["--tls-cert-file", str(self.tls.cert), "--tls-key-file", str(self.tls.key)]
            args += ["--tls-ca-cert-file", str(self.tls.ca)]
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
                if self._pong():
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} not ready after {timeout_s} s")

    def _pong(self) -> bool:
        with contextlib.ExitStack() as stack:
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", self.port), timeout=0.5))
            if self.tls is not None:  # the wrapped socket owns the connection from here
                sock = stack.enter_context(self.tls.context().wrap_socket(sock, server_hostname="127.0.0.1"))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@contextlib.contextmanager
def temporary_redis() -> Iterator[str]:
    """A redis-server of its own (persistence off) in a temporary directory, for the block: its URL."""
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(Path(workdir))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


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
