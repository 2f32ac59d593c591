"""POST /process with an Idempotency-Key: one job per key, however often or concurrently it is sent."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from app.client import AsyncClient
from app.config import Settings
from tests.api.conftest import StartService
from tests.api.test_client import base_url


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_the_same_key_twice_makes_one_job(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, worker=False)
    first = await service.client.post("/process", json={"text": "once"}, headers=keyed("order-17"))
    again = await service.client.post("/process", json={"text": "once"}, headers=keyed("order-17"))

    assert (first.status, again.status) == (202, 202)
    job_id = (await first.json())["id"]
    assert (await again.json()) == {"id": job_id, "status": "queued"}
    assert again.headers["Location"] == f"/jobs/{job_id}"
    assert await service.queued() == 1
    assert await service.job_keys() == [service.keys.job(job_id).encode()]


async def test_20_concurrent_duplicates_make_one_job(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, worker=False)
    responses = await asyncio.gather(
        *(service.client.post("/process", json={"text": "burst"}, headers=keyed("burst-key")) for _ in range(20))
    )

    assert {r.status for r in responses} == {202}
    assert len({(await r.json())["id"] for r in responses}) == 1
    assert await service.queued() == 1
    assert len(await service.job_keys()) == 1


async def test_different_keys_make_different_jobs(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, worker=False)
    async with AsyncClient(base_url(service)) as client:
        ids = [(await client.submit("t", idempotency_key=key)).id for key in ("key-a", "key-b", "key-c")]
    assert len(set(ids)) == 3
    assert await service.queued() == 3


# Other control characters (\x00, \x01, \x7f) never reach the app: aiohttp's parser refuses the request.
@pytest.mark.parametrize("key", ["k" * 256, "tab\there", ""], ids=["256-chars", "control-character", "empty"])
async def test_a_bad_key_gets_a_problem_and_enqueues_nothing(
    start_service: StartService, settings: Settings, key: str
) -> None:
    service = await start_service(settings, worker=False)
    response = await service.client.post("/process", json={"text": "t"}, headers=keyed(key))

    assert response.status == 400
    assert response.content_type == "application/problem+json"
    problem = orjson.loads(await response.read())
    assert (problem["type"], problem["status"]) == ("/problems/invalid-idempotency-key", 400)
    assert "255" in problem["detail"]
    assert await service.queued() == 0
    assert await service.job_keys() == []


async def test_a_key_of_255_characters_is_accepted(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, worker=False)
    response = await service.client.post("/process", json={"text": "t"}, headers=keyed("k" * 255))
    assert response.status == 202
    assert await service.queued() == 1


async def test_a_repeated_key_with_wait_returns_the_finished_job(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings)
    first = await service.client.post("/process?wait=10", json={"text": "finish me"}, headers=keyed("wait-key"))
    assert first.status == 200
    job = await first.json()
    assert job["status"] == "done"

    again = await service.client.post("/process?wait=10", json={"text": "finish me"}, headers=keyed("wait-key"))

    assert again.status == 200
    repeated = await again.json()
    assert (repeated["id"], repeated["status"], repeated["summary"]) == (job["id"], "done", "finish me")
    assert again.headers["Location"] == f"/jobs/{job['id']}"
    assert len(await service.job_keys()) == 1


@pytest.mark.parametrize("change", [{"priority": "high"}, {"expires_in": 60}, {"mode": "batch"}])
async def test_the_same_key_with_another_priority_expiry_or_mode_is_another_body(
    start_service: StartService, settings: Settings, change: dict[str, object]
) -> None:
    service = await start_service(settings, worker=False)
    first = await service.client.post("/process", json={"text": "once"}, headers=keyed("order-18"))
    other = await service.client.post("/process", json={"text": "once", **change}, headers=keyed("order-18"))
    assert (first.status, other.status) == (202, 422)
    assert (await other.json())["type"] == "/problems/idempotency-key-reused"
    same = await service.client.post("/process", json={"text": "once"}, headers=keyed("order-18"))
    assert (same.status, (await same.json())["id"]) == (202, (await first.json())["id"]), "the first body still replays"
    assert await service.queued() == 1
