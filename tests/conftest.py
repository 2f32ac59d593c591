"""Shared fixtures: a real redis-server per session, a fresh queue name per test, settings."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import fakeredis
import pytest
import redis.asyncio as aioredis

from app.config import Role, Settings
from app.queue.contract import Keys
from app.queue.store import Queue
from tests.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the session; tests isolate themselves by queue name."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_redis_server(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """A factory of private redis-servers a test may stop, kill and restart."""
    servers: list[RedisServer] = []

    def make(**kwargs: object) -> RedisServer:
        server = RedisServer(tmp_path / f"redis{len(servers)}", **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.kill()


@pytest.fixture
def queue_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def keys(queue_name: str) -> Keys:
    return Keys(queue_name, f"{queue_name}_results")


@pytest.fixture
def settings(redis_server: RedisServer, keys: Keys) -> Settings:
    return Settings(
        role=Role.ALL,
        redis_url=redis_server.url,
        queue_name=keys.queue,
        result_channel=keys.channel,
        summarizer="noop",
        worker_concurrency=20,
        shutdown_grace_s=2.0,
    )


def with_(settings: Settings, **changes: object) -> Settings:
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture(params=["redis", "fakeredis"])
async def any_redis(request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis]:
    """The same behaviour is owed on a real server and on the embedded broker."""
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        client = aioredis.Redis.from_url(server.url)
    else:
        client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()


@pytest.fixture
def queue(any_redis: aioredis.Redis, keys: Keys) -> Queue:
    blocking = not isinstance(any_redis, fakeredis.FakeAsyncRedis)
    return Queue(any_redis, keys, result_ttl_s=60, blocking_move=blocking)


@pytest.fixture
async def pubsub(redis: aioredis.Redis, keys: Keys) -> AsyncIterator[aioredis.client.PubSub]:
    """Subscribed to the test queue's result channel, the confirmation awaited before the test starts."""
    subscription = redis.pubsub()
    await subscription.subscribe(keys.channel)
    assert (await subscription.get_message(timeout=5))["type"] == "subscribe"  # type: ignore[index]
    yield subscription
    await subscription.aclose()
