"""The edge of a real `python -m app` process: where it listens (HOST), and /healthz under a
flood of idle sockets when the process has few file descriptors (RLIMIT_NOFILE 256, as with
`ulimit -n 256`), on the event loop the service really runs (uvloop)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.faults.processes import Spawn
from tests.helpers import until_ok
from tests.redis_server import RedisServer, free_port

SLACK_S = 2.0


def died(process: subprocess.Popen[bytes], log: Path) -> Callable[[], str | None]:
    return lambda: None if process.poll() is None else f"exited {process.returncode}: {log.read_text()[-2000:]}"


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine other than loopback, if it has one."""
    candidates = []
    for probe in ("192.0.2.1", "10.255.255.255", "8.8.8.8"):  # a UDP connect sends nothing: it picks a route
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
            sock.connect((probe, 9))
            candidates.append(sock.getsockname()[0])
    with contextlib.suppress(OSError):
        candidates += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    return next((address for address in candidates if not address.startswith(("127.", "0."))), None)


async def reachable(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=5)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


@pytest.mark.parametrize("host", [None, "0.0.0.0"], ids=["default", "HOST=0.0.0.0"])
async def test_the_api_and_a_workers_probe_listen_on_loopback_unless_host_says_otherwise(
    spawn: Spawn, redis_server: RedisServer, tmp_path: Path, host: str | None
) -> None:
    api_port, probe_port = free_port(), free_port()
    extra = {"HOST": host} if host else {}
    api = spawn("api", ROLE="all", PORT=str(api_port), SUMMARIZER="noop", **extra)  # no REDIS_URL: embedded
    worker = spawn("worker", ROLE="worker", REDIS_URL=redis_server.url, METRICS_PORT=str(probe_port), **extra)
    await until_ok(f"http://127.0.0.1:{api_port}/healthz", died=died(api, tmp_path / "api.log"))
    await until_ok(f"http://127.0.0.1:{probe_port}/healthz", died=died(worker, tmp_path / "worker.log"))

    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address: only the loopback side was checked")
    expected = host == "0.0.0.0"
    assert await reachable(address, api_port) is expected, f"the API on {address}"
    assert await reachable(address, probe_port) is expected, f"the worker's probe on {address}"


def log_lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_with_256_fds_300_idle_sockets_leave_healthz_answered(
    spawn: Spawn, redis_server: RedisServer, tmp_path: Path
) -> None:
    port, header_timeout_s, idle_n = free_port(), 5.0, 300
    env = {"ROLE": "api", "REDIS_URL": redis_server.url, "PORT": str(port), "LOG_FORMAT": "json"}
    api = spawn("api", nofile=(256, 256), HEADER_TIMEOUT=str(header_timeout_s), **env)  # MAX_CONNECTIONS: default
    await until_ok(f"http://127.0.0.1:{port}/healthz", died=died(api, tmp_path / "api.log"))
    [warning] = [line for line in log_lines(tmp_path / "api.log") if "file-descriptor limit" in line["event"]]
    assert (warning["level"], warning["fd_soft_limit"], warning["configured_max_connections"]) == ("warning", 256, 1000)
    assert warning["max_connections"] < 256 - 100, "room kept for Redis and the process itself"
    assert "ulimit -n" in warning["fix"]

    loop = asyncio.get_running_loop()
    statuses: list[int] = []
    latencies: list[float] = []
    fds: list[int] = []
    done = asyncio.Event()

    async def probe(http: aiohttp.ClientSession) -> None:  # /healthz on a fresh connection every 50 ms
        while not done.is_set():
            started = loop.time()
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    statuses.append(response.status)
            except aiohttp.ClientError as exc:
                statuses.append(type(exc).__name__)  # type: ignore[arg-type]
            latencies.append(loop.time() - started)
            fds.append(open_fds(api.pid))
            await asyncio.sleep(0.05)

    async def idle_socket() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened = loop.time()
        try:
            async with asyncio.timeout(header_timeout_s + SLACK_S):
                with contextlib.suppress(ConnectionResetError):
                    while await reader.read(65536):
                        pass
        finally:
            writer.close()
        return loop.time() - opened

    connector = aiohttp.TCPConnector(force_close=True)  # a new connection per probe, as a healthcheck makes
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:
        prober = asyncio.create_task(probe(http))
        started = loop.time()
        idle = [asyncio.create_task(idle_socket()) for _ in range(idle_n)]
        lifetimes = await asyncio.gather(*idle)
        everything_s = loop.time() - started
        done.set()
        await prober

    print(
        f"\nRLIMIT_NOFILE 256, MAX_CONNECTIONS 1000 lowered to {warning['max_connections']}: {idle_n} idle sockets, "
        f"each closed after {min(lifetimes):.2f}-{max(lifetimes):.2f} s (HEADER_TIMEOUT {header_timeout_s} s), all "
        f"within {everything_s:.2f} s. Meanwhile {len(statuses)} /healthz: {sorted(set(map(str, statuses)))}, "
        f"latency median {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms; "
        f"the process's open fds at most {max(fds)}"
    )
    assert set(statuses) == {200}
    assert max(fds) < 256
    assert api.poll() is None
    assert "Traceback" not in (tmp_path / "api.log").read_text()


async def test_a_soft_fd_limit_below_the_hard_one_is_raised_and_the_caps_kept(
    spawn: Spawn, redis_server: RedisServer, tmp_path: Path
) -> None:
    port = free_port()
    env = {"ROLE": "api", "REDIS_URL": redis_server.url, "PORT": str(port), "LOG_FORMAT": "json"}
    api = spawn("api", nofile=(256, 4096), **env)
    await until_ok(f"http://127.0.0.1:{port}/healthz", died=died(api, tmp_path / "api.log"))
    lines = log_lines(tmp_path / "api.log")
    [raised] = [line for line in lines if "file-descriptor" in str(line["event"])]
    assert (raised["level"], raised["from"]) == ("info", 256)
    [listening] = [line for line in lines if line["event"] == "api listening"]
    assert listening["max_connections"] == 1000, "the configured cap is kept"
    limits = Path(f"/proc/{api.pid}/limits").read_text()
    [soft, hard] = next(line for line in limits.splitlines() if line.startswith("Max open files")).split()[3:5]
    assert (int(soft), int(hard)) == (raised["to"], 4096)
    assert int(soft) >= 1000 + 100
