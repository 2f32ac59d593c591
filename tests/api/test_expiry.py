"""A job not started before its expiry (expires_in, JOB_EXPIRES) ends `expired`, once,
announced, without a model call; one that had started runs to its end."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from app.client import AsyncClient, InvalidRequest
from app.config import Settings
from app.queue.message import new_message
from app.queue.record import EXPIRED_ERROR
from app.queue.store import Queue
from tests.api.conftest import StartService
from tests.api.test_client import base_url
from tests.conftest import with_
from tests.fakes.summarizers import Recorder
from tests.helpers import drain_events, eventually, take


async def test_a_job_past_its_expires_in_ends_expired_without_a_model_call(
    start_service: StartService, settings: Settings
) -> None:
    api = await start_service(settings, worker=False)
    pubsub = api.redis.pubsub()
    await pubsub.subscribe(api.keys.channel)
    async with AsyncClient(base_url(api)) as client:
        late = await client.submit("Nobody waits.", expires_in=0.2)
        fresh = await client.submit("Still wanted.", expires_in=600)
        await asyncio.sleep(0.3)  # past the first job's expiry, by the clock it is judged by
        model = Recorder()
        await start_service(settings, model)  # a worker, on the same queue

        async def both_final() -> bool:
            records = [await client.get(job.id) for job in (late, fresh)]
            return all(r.status in ("done", "expired") for r in records)

        await eventually(both_final, what="both jobs final")
        expired = await client.get(late.id)
        assert (expired.status, expired.error) == ("expired", EXPIRED_ERROR)
        assert (await client.get(fresh.id)).status == "done"
    assert len(model.calls) == 1, "the expired job made no model call"
    events = [orjson.loads(e) for e in await drain_events(pubsub, 0.5)]
    assert [e["status"] for e in events if e["id"] == late.id] == ["expired"], "announced once"
    stats = await (await api.client.get("/stats")).json()
    assert stats["totals"]["expired"] == 1 and stats["tenants"]["default"]["active"] == 0
    await pubsub.aclose()


async def test_a_wait_request_may_let_its_job_expire_with_it_and_otherwise_it_still_runs(
    start_service: StartService, settings: Settings
) -> None:
    api = await start_service(settings, worker=False)
    gone = await api.client.post("/process?wait=0.3", json={"text": "A client that gives up.", "expires_in": 0.3})
    stays = await api.client.post("/process?wait=0.3", json={"text": "A client that polls after."})
    assert (gone.status, stays.status) == (202, 202), "no worker: the waits ran out"
    gone_id, stays_id = (await gone.json())["id"], (await stays.json())["id"]
    await start_service(settings)
    async with AsyncClient(base_url(api)) as client:

        async def settled() -> bool:
            return [(await client.get(i)).status for i in (gone_id, stays_id)] == ["expired", "done"]

        await eventually(settled, what="the given-up job expired, the other done")


async def test_a_job_that_started_before_its_expiry_is_not_expired_when_recovered(queue: Queue) -> None:
    await queue.producer.enqueue(new_message("started in time", expires_in=0.2))
    [job] = await take(queue, "dies")
    await queue.transitions.requeue("dies", orphan=False)  # handed back, as at a shutdown
    await asyncio.sleep(0.3)
    [again] = await take(queue, "takes-over")
    assert (again.message.id, again.attempt) == (job.message.id, 2), "it runs: it had begun its work"


async def test_job_expires_is_the_default_and_the_body_may_say_otherwise(
    start_service: StartService, settings: Settings
) -> None:
    configured = with_(settings, job_expires_s=0.2)
    api = await start_service(configured, worker=False)
    async with AsyncClient(base_url(api)) as client:
        default = (await client.submit("Default expiry.")).id
        longer_id = (await client.submit("Longer.", expires_in=600)).id
        await asyncio.sleep(0.3)
        await start_service(configured)

        async def settled() -> bool:
            return [(await client.get(i)).status for i in (default, longer_id)] == ["expired", "done"]

        await eventually(settled, what="the default expired, the longer one done")


@pytest.mark.parametrize("value", [0, -1, True, "10", 30 * 86_400 + 1])
async def test_a_bad_expires_in_is_a_422_that_enqueues_nothing(
    start_service: StartService, settings: Settings, value: object
) -> None:
    api = await start_service(settings, worker=False)
    async with AsyncClient(base_url(api)) as client:
        with pytest.raises(InvalidRequest) as refused:
            await client.submit("t", expires_in=value)
    assert (refused.value.status, refused.value.problem["field"]) == (422, "expires_in")
    assert await api.queued() == 0


async def test_a_foreign_message_may_carry_expires_at(start_service: StartService, settings: Settings) -> None:
    api = await start_service(settings)
    message = {"id": "php-expired", "text": "From PHP, too late.", "expires_at": 1.0}
    await api.redis.lpush(api.keys.queue, orjson.dumps(message))

    async def expired() -> bool:
        return await api.redis.hget(api.keys.job("php-expired"), "status") == b"expired"

    await eventually(expired, what="the foreign job expired")
