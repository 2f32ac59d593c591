"""An API and a worker in the test's own loop, on the session's real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from app.api.app import create_app
from app.config import Settings
from app.connection.factory import Broker
from app.model.summarizers.base import Summarizer
from app.model.summarizers.testing import NoopSummarizer
from app.queue.contract import Keys
from app.queue.store import JobQueue
from app.worker.runner import Worker


@dataclass
class Service:
    client: TestClient
    redis: aioredis.Redis
    keys: Keys
    worker: Worker | None

    async def queued(self) -> int:
        return await self.redis.llen(self.keys.queue)

    async def job_keys(self) -> list[bytes]:
        return [key async for key in self.redis.scan_iter(match=self.keys.job("*"))]


StartService = Callable[..., Awaitable[Service]]


@pytest.fixture
async def start_service(
    aiohttp_client: Callable[..., Awaitable[TestClient]], redis: aioredis.Redis
) -> AsyncIterator[StartService]:
    tasks: list[tuple[Worker, asyncio.Task[None]]] = []

    async def start(settings: Settings, summarizer: Summarizer | None = None, *, worker: bool = True) -> Service:
        client = await aiohttp_client(create_app(settings, Broker(settings)))
        keys = Keys(settings.queue_name, settings.result_channel)
        runner = None
        if worker:
            queue = JobQueue.from_settings(Broker(settings).client(), settings)
            runner = Worker(settings, queue, summarizer or NoopSummarizer())
            tasks.append((runner, asyncio.create_task(runner.run())))
        return Service(client=client, redis=redis, keys=keys, worker=runner)

    yield start
    for runner, task in tasks:
        runner.stop()
        await task
        await runner.queue.redis.aclose()
        await runner.summarizer.aclose()
