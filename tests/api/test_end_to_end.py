"""Whole paths: the real Gemini SDK behind the worker, Redis going away and coming back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.client import AsyncClient
from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from app.queue.store import Queue
from tests.api.conftest import Service, StartService
from tests.api.test_client import base_url
from tests.conftest import with_
from tests.fakes.gemini_server import Answer, FakeGemini
from tests.helpers import complete, eventually, take
from tests.redis_server import RedisServer


async def test_a_job_is_summarized_by_gemini_through_the_real_sdk(
    start_service: StartService, settings: Settings
) -> None:
    async with FakeGemini(default=Answer("A faithful summary.")) as gemini:
        summarizer = GeminiSummarizer(api_key="test-key", model="gemini-flash-latest", base_url=gemini.base_url)
        service = await start_service(settings, summarizer)
        response = await service.client.post("/process?wait=20", json={"text": "A long text about Redis."})
        job = await response.json()
        await summarizer.aclose()
    assert (response.status, job["status"], job["summary"]) == (200, "done", "A faithful summary.")
    assert job["model"] == "gemini-fake-001"  # the model version the server reported
    [call] = gemini.calls
    assert call.prompt == "A long text about Redis."
    assert "faithful" in call.system_instruction


async def test_redis_down_answers_503_quickly_and_the_api_recovers(
    start_service: StartService, settings: Settings, make_redis_server: Callable[..., RedisServer]
) -> None:
    server = make_redis_server()
    service = await start_service(with_(settings, redis_url=server.url), worker=False)
    assert (await service.client.post("/process", json={"text": "before"})).status == 202
    server.stop()
    for path, method in (("/process", "POST"), ("/jobs/abc", "GET"), ("/readyz", "GET")):
        started = time.monotonic()
        response = await service.client.request(method, path, json={"text": "during"})
        assert (response.status, response.content_type) == (503, "application/problem+json"), path
        assert time.monotonic() - started < 5, f"{path} took too long to give up"
    server.start()
    response = await service.client.post("/process", json={"text": "after"})
    assert response.status == 202

    async def ready() -> bool:  # once its result listener has subscribed again (backoff up to 2 s)
        return (await service.client.get("/readyz")).status == 200

    await eventually(ready, what="/readyz 200 again")


async def test_a_waiter_rechecks_the_record_after_the_subscription_drops(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings, worker=False)
    queue = Queue(service.redis, service.keys, result_ttl_s=60)
    async with AsyncClient(base_url(service)) as client:
        job_id = (await client.submit("t")).id
        [job] = await take(queue, "w", 1)
        waiting = asyncio.create_task(client.get(job_id, wait_s=30))
        await eventually(lambda: _subscribers(service), what="the API's subscription")
        await asyncio.sleep(0.1)  # the waiter has read the record (running) and waits
        # Drop the API's subscription and finish the job at once: its event is published
        # while nobody listens, so only the re-check after reconnecting can wake the waiter.
        assert await service.redis.client_kill_filter(_type="pubsub") >= 1
        await complete(queue, "w", job, "done while away", "m")
        started = time.monotonic()
        record = await waiting
    assert (record.status, record.summary) == ("done", "done while away")
    assert time.monotonic() - started < 10, "the waiter was not woken; it only saw the job at its deadline"


async def _subscribers(service: Service) -> bool:
    counts = await service.redis.pubsub_numsub(service.keys.channel)
    return counts[0][1] >= 1
