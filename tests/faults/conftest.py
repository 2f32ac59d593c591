"""The fault tests reuse the in-process service of the API tests, and a fake Gemini each; and
start real `python -m app` processes (`spawn`) on a redis-server of their own (`private`)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from app.queue.contract import Keys
from app.queue.store import Queue
from tests.api.conftest import start_service
from tests.fakes.gemini_server import FakeGemini
from tests.faults.processes import Private, Spawn
from tests.helpers import drain_events
from tests.redis_server import RedisServer

__all__ = ["gemini", "start_service"]


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini() as server:
        yield server


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start `python -m app` with extra environment (and an fd limit if asked); its log goes to
    tmp_path/<name>.log."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, nofile: tuple[int, int] | None = None, **env: str) -> subprocess.Popen[bytes]:
        ours = ("REDIS_", "GEMINI_", "SUMMARIZER", "HOST", "MAX_CONNECTIONS", "MAX_EVENT_STREAMS")
        clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}

        def limit_fds() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

        with (tmp_path / f"{name}.log").open("wb") as log:
            command = [sys.executable, "-m", "app"]
            process = subprocess.Popen(command, env=clean | env, stdout=log, stderr=log, preexec_fn=limit_fds)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
async def private(make_redis_server: Callable[..., RedisServer], keys: Keys) -> AsyncIterator[Private]:
    """A redis-server of the test's own (with AOF), a queue on it, and a subscription to its results."""
    server = make_redis_server(appendonly=True)
    redis = aioredis.Redis.from_url(server.url)
    queue = Queue(redis, keys, result_ttl_s=600)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.channel)
    await drain_events(pubsub, seconds=0.05)
    yield server, queue, pubsub
    await pubsub.aclose()
    await redis.aclose()
