"""With API keys, one tenant holds at most half of a process's event streams and of its
connections waiting on ?wait=: another tenant always finds room. An open service (one user)
keeps the whole."""

from __future__ import annotations

import asyncio

from app.config import Settings
from tests.api.conftest import Service, StartService
from tests.api.test_tenants import ADMIN, ALPHA, BETA, KEYS, auth
from tests.conftest import with_
from tests.helpers import eventually


async def queued_job(service: Service, key: str) -> str:
    response = await service.client.post("/process", json={"text": "Nobody runs me."}, headers=auth(key))
    assert response.status == 202
    return str((await response.json())["id"])


async def test_a_tenant_holds_at_most_half_of_the_event_streams(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(with_(settings, api_keys=KEYS, max_event_streams=4), worker=False)
    client = service.client
    alpha_job, beta_job = await queued_job(service, ALPHA), await queued_job(service, BETA)
    held = [await client.get(f"/jobs/{alpha_job}/events", headers=auth(ALPHA)) for _ in range(2)]
    assert [response.status for response in held] == [200, 200]
    third = await client.get(f"/jobs/{alpha_job}/events", headers=auth(ALPHA))
    assert third.status == 429
    problem = await third.json()
    assert problem["type"] == "/problems/tenant-streams" and "half of MAX_EVENT_STREAMS" in problem["detail"]
    assert int(third.headers["Retry-After"]) > 0
    beta = await client.get(f"/jobs/{beta_job}/events", headers=auth(BETA))
    assert beta.status == 200, "another tenant finds room"
    held[0].close()  # one of alpha's ends: alpha may open another

    async def reopened() -> bool:
        response = await client.get(f"/jobs/{alpha_job}/events", headers=auth(ALPHA))
        response.close()
        return response.status == 200

    await eventually(reopened, what="alpha opening a stream again")
    for response in (held[1], beta):
        response.close()


async def test_beyond_its_share_of_waits_a_tenant_is_answered_at_once_and_others_still_wait(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(with_(settings, api_keys=KEYS, max_connections=10), worker=False)
    client = service.client
    alpha_job, beta_job = await queued_job(service, ALPHA), await queued_job(service, BETA)
    waiting = [asyncio.create_task(client.get(f"/jobs/{alpha_job}?wait=30", headers=auth(ALPHA))) for _ in range(5)]
    beta_wait = asyncio.create_task(client.get(f"/jobs/{beta_job}?wait=30", headers=auth(BETA)))

    async def all_held() -> bool:
        stats = await (await client.get("/stats", headers=auth(ADMIN))).json()
        return stats["held_here"]["waits"] == {"alpha": 5, "beta": 1}

    await eventually(all_held, what="alpha's five waits and beta's held")
    async with asyncio.timeout(10):  # alpha holds its share of 10 connections: its sixth is answered now
        third = await client.get(f"/jobs/{alpha_job}?wait=30", headers=auth(ALPHA))
    assert (third.status, (await third.json())["status"]) == (200, "queued")
    assert not beta_wait.done(), "beta's wait is held: its share is its own"
    for job, key in ((alpha_job, ALPHA), (beta_job, BETA)):
        assert (await client.delete(f"/jobs/{job}", headers=auth(key))).status == 200
    async with asyncio.timeout(10):
        answers = await asyncio.gather(*waiting, beta_wait)
    assert [(await answer.json())["status"] for answer in answers] == ["cancelled"] * 6, "each wait saw the end"


async def test_an_open_service_keeps_every_stream_for_its_one_user(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(with_(settings, max_event_streams=3), worker=False)
    job = str((await (await service.client.post("/process", json={"text": "t"})).json())["id"])
    held = [await service.client.get(f"/jobs/{job}/events") for _ in range(3)]
    assert [response.status for response in held] == [200, 200, 200]
    for response in held:
        response.close()
