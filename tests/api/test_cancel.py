"""DELETE /jobs/{id}: a queued job never runs, a running one has its model call aborted at the
real SDK's HTTP request; either ends `cancelled` exactly once, announced, scoped to its tenant."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from app.client import AsyncClient, JobEnded, NotFound
from app.config import Settings
from app.queue.message import new_message
from app.queue.record import CANCELLED_ERROR
from app.queue.replies import Cancelled
from app.queue.store import Queue
from tests.api.conftest import StartService, start_on_gemini
from tests.api.test_client import base_url
from tests.api.test_tenants import ALPHA, BETA, KEYS, auth
from tests.conftest import with_
from tests.fakes.gemini_server import FakeGemini, Hang
from tests.fakes.summarizers import Recorder
from tests.helpers import complete, drain_events, eventually, read_events, take


async def status_of(client: AsyncClient, job_id: str) -> str:
    return (await client.get(job_id)).status


async def test_a_queued_job_cancelled_never_runs_and_is_announced_once(
    start_service: StartService, settings: Settings
) -> None:
    api = await start_service(settings, worker=False)
    pubsub = api.redis.pubsub()
    await pubsub.subscribe(api.keys.channel)
    async with AsyncClient(base_url(api)) as client:
        job = await client.submit("Never mind this one.")
        kept = await client.submit("But run this one.")
        response = await api.client.delete(f"/jobs/{job.id}")  # raw: its 200 is under test
        assert response.status == 200
        record = await response.json()
        assert (record["status"], record["error"]) == ("cancelled", CANCELLED_ERROR)
        model = Recorder(gated=True)
        model.gate.set()
        worker = (await start_service(settings, model)).worker
        assert worker is not None
        await eventually(lambda: _is(client, kept.id, "done"), what="the other job done")
        assert model.calls == ["But run this one."], "the cancelled job made no model call"
        assert await status_of(client, job.id) == "cancelled"
    assert await api.redis.llen(api.keys.processing(worker.id)) == 0, "its message released"
    events = [orjson.loads(e) for e in await drain_events(pubsub, 0.3)]
    assert [e["status"] for e in events if e["id"] == job.id] == ["cancelled"]
    stats = await (await api.client.get("/stats")).json()
    assert stats["totals"]["cancelled"] == 1 and stats["tenants"]["default"]["active"] == 0
    await pubsub.aclose()


async def _is(client: AsyncClient, job_id: str, status: str) -> bool:
    return await status_of(client, job_id) == status


async def test_a_running_job_cancelled_has_its_model_call_aborted_and_the_worker_goes_on(
    start_service: StartService, settings: Settings
) -> None:
    model = Recorder(gated=True)
    service = await start_service(settings, model)
    async with AsyncClient(base_url(service)) as client:
        job = await client.submit("A long one.")
        await eventually(lambda: _is(client, job.id, "running"), what="the job running")
        await eventually(lambda: model.calls, what="in its model call")
        response = await service.client.delete(f"/jobs/{job.id}")  # raw: its 200 is under test
        assert (response.status, (await response.json())["status"]) == (200, "cancelled")
        await eventually(lambda: model.cancelled, what="the model call aborted")
        assert service.worker is not None
        processing = service.keys.processing(service.worker.id)
        await eventually(lambda: _zero(service.redis.llen(processing)), what="its message released")
        model.gate.set()
        after = await client.submit("The next one.", wait_s=10)
        assert after.status == "done", "the slot was freed and the worker goes on"
        assert await status_of(client, job.id) == "cancelled"
    totals = (await (await service.client.get("/stats")).json())["totals"]
    assert (totals["cancelled"], totals["done"], totals["retried"]) == (1, 1, 0)


async def _zero(count: object) -> bool:
    return await count == 0  # type: ignore[misc]


async def test_cancel_aborts_the_real_sdks_request_to_the_model(
    start_service: StartService, settings: Settings
) -> None:
    async with FakeGemini(default=Hang()) as gemini:
        service = await start_on_gemini(start_service, with_(settings, max_attempts=1), gemini)
        async with AsyncClient(base_url(service)) as client:
            job = await client.submit("Hangs at the model.")
            await eventually(lambda: gemini.calls, what="the model called")
            assert (await service.client.delete(f"/jobs/{job.id}")).status == 200  # raw: its 200 is under test
            await eventually(lambda: gemini.aborted, what="the model's request dropped by the client")
            assert len(gemini.calls) == 1, "no second call"
            assert await status_of(client, job.id) == "cancelled"


async def test_a_final_job_is_a_409_and_stays_as_it_ended(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings)
    async with AsyncClient(base_url(service)) as client:
        done = await client.submit("Quick.", wait_s=10)
        assert done.status == "done"
        response = await service.client.delete(f"/jobs/{done.id}")  # raw: its content type is under test
        assert response.status == 409
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert (problem["type"], problem["status"], problem["job_status"]) == ("/problems/job-ended", 409, "done")
        assert await status_of(client, done.id) == "done"
        again = await client.submit("Soon gone.")
        assert (await service.client.delete(f"/jobs/{again.id}")).status in (200, 409)  # raw: either status
        with pytest.raises(JobEnded) as second:
            await client.cancel(again.id)
    assert second.value.status == 409, "a second cancel"


async def test_only_its_tenant_or_an_admin_may_cancel_a_job(start_service: StartService, settings: Settings) -> None:
    service = await start_service(with_(settings, api_keys=KEYS), worker=False)
    url = base_url(service)
    async with AsyncClient(url, api_key=ALPHA) as alpha, AsyncClient(url, api_key=BETA) as beta:
        job = await alpha.submit("Alpha's.")
        for other in (beta,):
            with pytest.raises(NotFound) as unknown:
                await other.cancel(job.id)
            assert unknown.value.status == 404, "another tenant's job is unknown to it"
        for job_id in ("no-such-job", "bad id!"):
            with pytest.raises(NotFound) as missing:
                await alpha.cancel(job_id)
            assert missing.value.status == 404
        assert await status_of(alpha, job.id) == "queued", "untouched by beta's try"
    client = service.client
    assert (await client.delete(f"/jobs/{job.id}", headers=auth(ALPHA))).status == 200  # raw: its 200 is under test
    numbers = await (await client.get("/stats", headers=auth(ALPHA))).json()
    assert numbers["active"] == 0 and numbers["totals"]["cancelled"] == 1


async def test_the_event_stream_of_a_cancelled_job_ends_with_a_cancelled_event(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings, worker=False)
    async with AsyncClient(base_url(service)) as client:
        job = await client.submit("Watched, then called back.")
    # Raw: the stream as the server writes it (the client would resume one closed before its end).
    async with service.client.get(f"/jobs/{job.id}/events") as stream:
        reading = asyncio.create_task(read_events(stream))
        await asyncio.sleep(0.1)  # the stream is open and waiting
        assert (await service.client.delete(f"/jobs/{job.id}")).status == 200
        async with asyncio.timeout(10):
            events = await reading
    assert [event.event for event in events] == ["cancelled"]
    assert orjson.loads(events[-1].data)["status"] == "cancelled"


@pytest.mark.parametrize("first", ["cancel", "complete"])
async def test_a_cancel_racing_a_completion_ends_the_job_once(queue: Queue, first: str) -> None:
    message = new_message("racing")
    await queue.producer.enqueue(message)
    [job] = await take(queue, "w")
    if first == "cancel":
        assert (await queue.producer.cancel(message.id, {}))[0] == Cancelled.CANCELLED
        assert not await complete(queue, "w", job), "the completion only releases it"
        expected = "cancelled"
    else:
        assert await complete(queue, "w", job)
        assert (await queue.producer.cancel(message.id, {}))[0] == Cancelled.ALREADY_FINAL
        expected = "done"
    assert (await queue.reads.get_job(message.id) or {})["status"] == expected
    assert await queue.redis.llen(queue.keys.processing("w")) == 0
    totals = await queue.reads.totals()
    assert totals["done"] + totals["cancelled"] == 1


async def test_a_cancelled_retry_or_recovered_job_is_released_unrun(queue: Queue) -> None:
    retried, recovered = new_message("retrying"), new_message("recovered")
    await queue.producer.enqueue(retried)
    await queue.producer.enqueue(recovered)
    [a, _] = await take(queue, "dies", 2)
    assert await queue.transitions.retry("dies", a, "transient", 0.0)
    for message in (retried, recovered):
        assert (await queue.producer.cancel(message.id, {}))[0] == Cancelled.CANCELLED
    assert await queue.transitions.requeue("dies", orphan=True) == 1
    assert await queue.transitions.promote_due() == 1
    assert await take(queue, "w", 10) == [], "both met with a final record: released, not started"
    assert await queue.redis.llen(queue.keys.processing("w")) == 0
    assert (await queue.producer.cancel("never-was", {}))[0] == Cancelled.UNKNOWN


async def test_a_cancelled_or_expired_record_lives_result_ttl_once_its_message_is_gone(queue: Queue) -> None:
    waiting, running, late = new_message("waits"), new_message("runs"), new_message("too late", expires_in=0.01)
    for message in (running, waiting, late):
        await queue.producer.enqueue(message)
    [job] = await take(queue, "w")
    assert job.message.id == running.id
    await queue.producer.cancel(running.id, {})
    await queue.producer.cancel(waiting.id, {})
    assert 0 < await queue.redis.ttl(queue.keys.job(running.id)) <= 60, "RESULT_TTL from its end"
    assert await queue.redis.ttl(queue.keys.job(waiting.id)) > 60, "outlives its message, still in the lane"
    await asyncio.sleep(0.02)  # past the third job's expiry, by the clock start.lua is given
    assert await take(queue, "w", 5) == [], "one released unrun, one expired"
    for message in (waiting, late):
        assert 0 < await queue.redis.ttl(queue.keys.job(message.id)) <= 60, message.text
