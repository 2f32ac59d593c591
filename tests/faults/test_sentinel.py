"""REDIS_URL=redis+sentinel://: the service finds the master through Sentinel and follows a failover."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from aiohttp.test_utils import TestClient

from app.config import Settings
from app.model.summarizers.extractive import ExtractiveSummarizer
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.redis_server import RedisServer, free_port, require_binary

pytestmark = pytest.mark.redis


class Sentinel:
    """One sentinel process watching `master` as service "main" (quorum 1, quick to act)."""

    def __init__(self, workdir: Path, master: RedisServer) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "sentinel.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {workdir}\nlogfile {workdir / 'sentinel.log'}\n"
            f"sentinel monitor main 127.0.0.1 {master.port} 1\n"
            "sentinel down-after-milliseconds main 1000\nsentinel failover-timeout main 5000\n"
        )
        self.process = subprocess.Popen([require_binary("redis-server"), str(self.config), "--sentinel"])

    def master(self) -> tuple[str, int]:
        with redis.Redis(port=self.port) as sentinel:
            host, port = sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "main")
        return host.decode(), int(port)

    def replicas_known(self) -> int:
        with redis.Redis(port=self.port) as sentinel:
            return len(sentinel.execute_command("SENTINEL", "REPLICAS", "main"))

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def until(check: object, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except (redis.ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.1)


@pytest.fixture
def sentinel(make_redis_server: object, tmp_path: Path) -> Iterator[tuple[Sentinel, RedisServer, RedisServer]]:
    master = make_redis_server()  # type: ignore[operator]
    replica = make_redis_server(extra=("--replicaof", "127.0.0.1", str(master.port)))  # type: ignore[operator]
    watcher = Sentinel(tmp_path / "sentinel", master)
    until(lambda: watcher.replicas_known() == 1, "sentinel seeing the replica")
    yield watcher, master, replica
    watcher.stop()


async def process(client: TestClient, text: str) -> dict[str, object]:
    response = await client.post("/process?wait=20", json={"text": text})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_jobs_run_through_sentinel_and_across_a_failover(
    sentinel: tuple[Sentinel, RedisServer, RedisServer], start_service: StartService, settings: Settings
) -> None:
    # `sentinel` first: its servers are set up before the service and torn down after it.
    watcher, master, replica = sentinel
    settings = with_(settings, redis_url=f"redis+sentinel://127.0.0.1:{watcher.port}/main")
    service = await start_service(settings, ExtractiveSummarizer())
    before = await process(service.client, "Before the failover. A second sentence here.")
    with redis.Redis(port=master.port) as old:
        assert old.wait(1, 5000) == 1  # the replica has every write so far (replication is asynchronous)
    master.kill()
    until(lambda: watcher.master() == ("127.0.0.1", replica.port), "the replica becoming master")
    after = await process(service.client, "After the failover. A second sentence here.")
    assert (before["status"], after["status"]) == ("done", "done")
    record = await (await service.client.get(f"/jobs/{before['id']}")).json()
    assert record["summary"] == before["summary"]
    with redis.Redis(port=replica.port) as new:
        assert new.exists(f"{{{settings.queue_name}}}:job:{after['id']}")
