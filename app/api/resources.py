"""The aiohttp application's shared resources, by key (set up in api._redis_ctx)."""

from __future__ import annotations

from aiohttp import web

from app.api.rates import Rates
from app.config import Settings
from app.connection.factory import Broker
from app.metrics import Metrics
from app.queue.batching import GroupCommit
from app.queue.hub import ResultHub
from app.queue.store import Enqueue, JobQueue

SETTINGS = web.AppKey("settings", Settings)
BROKER = web.AppKey("broker", Broker)
QUEUE = web.AppKey("queue", JobQueue)
HUB = web.AppKey("hub", ResultHub)
# Concurrent requests' enqueues share round trips (each job still its own atomic script).
INTAKE = web.AppKey("intake", GroupCommit[Enqueue, BaseException | None])
METRICS = web.AppKey("metrics", Metrics)
RATES = web.AppKey("rates", Rates)
OPENAPI = web.AppKey("openapi", bytes)  # the document, serialized once
