"""Results: every waiter gets its own job's ending, concurrency is real, nothing crashes the worker."""

from __future__ import annotations

import asyncio
import time

import orjson

from app.client import AsyncClient
from app.config import Settings
from app.model.summarizers.base import Emit, Summary
from app.model.summarizers.testing import NoopSummarizer, SleepSummarizer
from app.options import Options
from tests.api.conftest import StartService
from tests.api.test_client import base_url
from tests.conftest import with_
from tests.helpers import drain_events, eventually


async def test_300_concurrent_jobs_each_get_their_own_summary(start_service: StartService, settings: Settings) -> None:
    service = await start_service(with_(settings, worker_concurrency=50))
    texts = [f"text number {i}: " + "word " * (i % 7) for i in range(300)]

    async def submit(text: str) -> tuple[str, dict[str, object]]:
        response = await service.client.post("/process?wait=30", json={"text": text})
        assert response.status == 200
        return text, await response.json()

    results = await asyncio.gather(*(submit(text) for text in texts))
    for text, job in results:
        assert (job["status"], job["summary"]) == ("done", text[:80])
    async with AsyncClient(base_url(service)) as client:
        for text, job in results:
            fetched = await client.get(str(job["id"]))
            assert fetched.summary == text[:80]
    assert len({job["id"] for _, job in results}) == 300


async def test_a_waiting_get_returns_when_the_job_ends(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, SleepSummarizer(0.3))
    async with AsyncClient(base_url(service)) as client:
        job_id = (await client.submit("slow")).id
        assert (await client.get(job_id, wait_s=20)).status == "done"


async def test_a_wait_that_runs_out_answers_202_with_the_job_still_open(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings, SleepSummarizer(5))
    response = await service.client.post("/process?wait=0.2", json={"text": "slow"})
    assert response.status == 202
    assert (await response.json())["status"] in ("queued", "running")


async def test_concurrency_is_real(start_service: StartService, settings: Settings) -> None:
    delay_s, jobs = 0.2, 200
    service = await start_service(with_(settings, worker_concurrency=50), SleepSummarizer(delay_s))
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(service.client.post("/process?wait=60", json={"text": f"job {i}"}) for i in range(jobs))
    )
    elapsed = time.perf_counter() - started
    assert {r.status for r in responses} == {200}
    speedup = jobs * delay_s / elapsed  # 50 at once would be 50x the serial time at best
    assert speedup > 10, f"200 jobs of {delay_s}s took {elapsed:.2f}s: only {speedup:.1f}x the serial rate"


async def test_a_raw_lpush_from_another_producer_is_run_and_published(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings)
    pubsub = service.redis.pubsub()
    await pubsub.subscribe(service.keys.channel)
    await drain_events(pubsub, seconds=0.1)  # the subscription is confirmed before the push
    await service.redis.lpush(service.keys.queue, orjson.dumps({"text": "pushed by redis-cli"}))
    [event] = [orjson.loads(e) for e in await drain_events(pubsub, seconds=1.0)]
    assert (event["status"], event["summary"]) == ("done", "pushed by redis-cli")
    async with AsyncClient(base_url(service)) as client:
        record = await client.get(event["id"])
    assert (record.status, record.summary) == ("done", "pushed by redis-cli")
    await pubsub.aclose()


async def test_poison_messages_are_dead_lettered_and_the_worker_goes_on(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings)
    for poison in (b"{garbage", b'{"no": "text"}', b'{"text": ""}', b"\xff\xfe"):
        await service.redis.lpush(service.keys.queue, poison)
    async with AsyncClient(base_url(service)) as client:
        assert (await client.submit("still alive", wait_s=10)).status == "done"

    async def all_dead() -> bool:
        return await service.redis.llen(service.keys.dead) == 4

    await eventually(all_dead, what="4 messages on the dead list")
    reasons = [orjson.loads(e)["reason"] for e in await service.redis.lrange(service.keys.dead, 0, -1)]
    assert all(reasons)


class ExplodingSummarizer(NoopSummarizer):
    """Crashes on texts that say so: a bug in one job must not take the worker down."""

    name = "exploding"

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        if "boom" in text:
            raise RuntimeError("kaboom")
        return Summary(text="fine", model="test")


async def test_a_crashing_job_fails_alone(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, ExplodingSummarizer())
    async with AsyncClient(base_url(service)) as client:
        crashed = await client.submit("boom", wait_s=10)
        assert crashed.status == "failed"
        assert "RuntimeError" in crashed.record["error"]
        fine = await client.submit("calm", wait_s=10)
    assert (fine.status, fine.summary) == ("done", "fine")


async def test_many_waiters_share_one_subscription(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, SleepSummarizer(2))
    waits = [asyncio.create_task(service.client.post("/process?wait=20", json={"text": f"w{i}"})) for i in range(50)]

    async def all_running() -> bool:
        return await service.redis.scard(service.keys.workers) == 1 and len(await service.job_keys()) == 50

    await eventually(all_running, what="50 jobs accepted")
    [(_, subscribers)] = await service.redis.pubsub_numsub(service.keys.channel)
    assert subscribers == 1, "each waiting request opened its own subscription"
    assert {r.status for r in await asyncio.gather(*waits)} == {200}
