"""What the API application holds: its settings and registries (given at creation), and
what it opens at startup, each with its web.AppKey and its own cleanup_ctx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web

from app.api.trends import TRENDS, observer
from app.config import Settings
from app.connection.factory import RedisFactory
from app.metrics import Metrics
from app.queue.batching import GroupCommit
from app.queue.hub import ResultHub
from app.queue.producer import Enqueue, Refused
from app.queue.store import Queue
from app.tenants import Tenants

# Writes in flight at once for the intake: concurrent requests' enqueues share round trips.
INTAKE_LANES = 2
SUBSCRIBE_WAIT_S = 5.0

SETTINGS = web.AppKey("settings", Settings)
REDIS_FACTORY = web.AppKey("redis_factory", RedisFactory)
METRICS = web.AppKey("metrics", Metrics)
REDIS = web.AppKey("redis", aioredis.Redis)
QUEUE = web.AppKey("queue", Queue)
# Concurrent requests' enqueues share round trips (each job still its own atomic script).
INTAKE = web.AppKey("intake", GroupCommit[Enqueue, Refused | None])
HUB = web.AppKey("hub", ResultHub)
TENANTS = web.AppKey("tenants", Tenants)


async def redis_client(app: web.Application) -> AsyncIterator[None]:
    """The API's Redis client, and the queue and intake over it (which hold nothing to close)."""
    client = app[REDIS] = app[REDIS_FACTORY].client()
    queue = app[QUEUE] = Queue.from_settings(client, app[SETTINGS])
    app[INTAKE] = GroupCommit(queue.producer.enqueue_many, lanes=INTAKE_LANES)
    yield
    await client.aclose()


async def result_hub(app: web.Application) -> AsyncIterator[None]:
    """The process's one subscription to finished jobs. Serves even if Redis is down at
    start: /readyz says so until the hub is subscribed."""
    hub = app[HUB] = ResultHub.of(app[REDIS], app[QUEUE].keys)
    if TRENDS in app:
        hub.on_event = observer(app[TRENDS])
    await hub.start()
    await hub.wait_subscribed(timeout_s=SUBSCRIBE_WAIT_S)
    yield
    await hub.stop()


async def wake_waiters(app: web.Application) -> None:
    """on_shutdown: held ?wait= requests and event streams answer with the job as it
    stands rather than hold the shutdown up."""
    app[HUB].closing = True
    app[HUB].wake_all()
