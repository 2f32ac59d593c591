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
from app.connection.factory import RedisFactory
from app.model.summarizers.base import Summarizer
from app.model.summarizers.gemini import GeminiSummarizer
from app.model.summarizers.testing import NoopSummarizer
from app.queue.contract import Keys
from app.queue.store import Queue
from app.service import build_worker
from app.worker.runner import Worker
from tests.api.raw_http import serve
from tests.fakes.gemini_server import Answer, FakeGemini


@dataclass
class Service:
    client: TestClient
    redis: aioredis.Redis
    keys: Keys
    worker: Worker | None

    async def queued(self) -> int:
        """Messages waiting in every lane (each tenant's, each priority's), wake tokens aside."""
        queue = Queue(self.redis, self.keys)
        return sum((await queue.reads.waiting()).values())

    async def job_keys(self) -> list[bytes]:
        return [key async for key in self.redis.scan_iter(match=self.keys.job("*"))]


__all__ = ["serve"]  # a fixture of raw_http, for every API test

StartService = Callable[..., Awaitable[Service]]


@pytest.fixture
async def start_service(
    aiohttp_client: Callable[..., Awaitable[TestClient]], redis: aioredis.Redis
) -> AsyncIterator[StartService]:
    tasks: list[tuple[Worker, asyncio.Task[None], Queue]] = []

    async def start(settings: Settings, summarizer: Summarizer | None = None, *, worker: bool = True) -> Service:
        client = await aiohttp_client(create_app(settings, RedisFactory(settings)))
        keys = Keys(settings.queue_name, settings.result_channel)
        runner = None
        if worker:
            queue = Queue.from_settings(RedisFactory(settings).client(), settings)
            runner = build_worker(settings, queue, summarizer or NoopSummarizer())
            tasks.append((runner, asyncio.create_task(runner.run()), queue))
        return Service(client=client, redis=redis, keys=keys, worker=runner)

    yield start
    for runner, task, queue in tasks:
        runner.stop()
        await task
        await queue.redis.aclose()
        await runner.model.summarizer.aclose()


SUMMARY = "Foxes jump. Dogs sleep. Birds sing in the tall trees all day long."


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini(default=Answer(text=SUMMARY, chunks=5, chunk_delay_s=0.1)) as server:
        yield server


async def start_on_gemini(start_service: StartService, settings: Settings, gemini: FakeGemini) -> Service:
    """An API and a worker whose summarizer streams from the fake Gemini server."""
    summarizer = GeminiSummarizer("k", f"gemini-{settings.queue_name}", gemini.base_url, 30)
    return await start_service(settings, summarizer)
