"""Two tenants and an admin across every route: each sees its own jobs and numbers, another
tenant's job is a 404 (never a 403), and an Idempotency-Key belongs to its tenant."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiohttp.test_utils import TestClient

from app.config import Settings
from tests.api.conftest import Service, StartService
from tests.conftest import with_
from tests.helpers import eventually, read_events

ALPHA, BETA, ADMIN = "alpha-key-0123456789abcdef", "beta-key-0123456789abcdefg", "admin-key-0123456789abcdef"
BARE = "bare-key-0123456789abcdefgh"  # no tenant named: tenant "default"
KEYS = (f"alpha:{ALPHA}", f"beta:{BETA}", f"admin:{ADMIN}", BARE)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def submit(client: TestClient, key: str, text: str, **headers: str) -> dict[str, object]:
    response = await client.post("/process?wait=20", json={"text": text}, headers=auth(key) | headers)
    assert response.status in (200, 202), await response.text()
    return await response.json()


@pytest.fixture
async def service(start_service: StartService, settings: Settings) -> Service:
    return await start_service(with_(settings, api_keys=KEYS))


async def test_a_job_is_read_by_its_tenant_and_the_admin_and_is_unknown_to_anyone_else(service: Service) -> None:
    client = service.client
    job = await submit(client, ALPHA, "Alpha's confidential text. It has two sentences.")
    assert (job["status"], job["tenant"]) == ("done", "alpha")
    unknown = await (await client.get("/jobs/no-such-job", headers=auth(BETA))).json()
    for key, status in ((ALPHA, 200), (ADMIN, 200), (BETA, 404), (BARE, 404)):
        response = await client.get(f"/jobs/{job['id']}", headers=auth(key))
        assert response.status == status, key
        if status == 404:  # the same answer as for an id that never was, but for the id itself
            body = await response.json()
            assert {k: v for k, v in body.items() if k not in ("detail", "instance")} == {
                k: v for k, v in unknown.items() if k not in ("detail", "instance")
            }
            assert "alpha" not in body["detail"] and "summary" not in body


async def test_another_tenants_job_is_a_404_at_once_even_with_wait(service: Service) -> None:
    client = service.client
    job = await submit(client, ALPHA, "A text beta must not learn about.")
    async with asyncio.timeout(10):  # a wait of 60 s is not served to beta: it is a 404 now
        response = await client.get(f"/jobs/{job['id']}?wait=60", headers=auth(BETA))
    assert response.status == 404


async def test_event_streams_follow_the_same_rule(service: Service) -> None:
    client = service.client
    job = await submit(client, ALPHA, "Streamed to its owner only. Nobody else.")
    assert (await client.get(f"/jobs/{job['id']}/events", headers=auth(BETA))).status == 404
    own = await client.get(f"/jobs/{job['id']}/events", headers=auth(ALPHA))
    assert own.status == 200
    events = await read_events(own)
    assert events[-1].event == "done" and orjson.loads(events[-1].data)["tenant"] == "alpha"


async def test_lists_and_stats_show_a_tenant_its_own_and_the_admin_everything(service: Service) -> None:
    client = service.client
    alpha_jobs = [await submit(client, ALPHA, f"Alpha text number {i}.") for i in range(2)]
    beta_job = await submit(client, BETA, "Beta's only text.")
    listed = {key: await (await client.get("/jobs", headers=auth(key))).json() for key in (ALPHA, BETA, ADMIN)}
    assert {j["id"] for j in listed[ALPHA]["jobs"]} == {j["id"] for j in alpha_jobs}
    assert [j["id"] for j in listed[BETA]["jobs"]] == [beta_job["id"]]
    assert {j["id"] for j in listed[ADMIN]["jobs"]} == {beta_job["id"], *(j["id"] for j in alpha_jobs)}

    alpha_stats = await (await client.get("/stats", headers=auth(ALPHA))).json()
    assert (alpha_stats["tenant"], alpha_stats["active"]) == ("alpha", 0)
    assert (alpha_stats["totals"]["enqueued"], alpha_stats["totals"]["done"]) == (2, 2)
    assert "workers" not in alpha_stats and "tenants" not in alpha_stats, "no other tenant's numbers"
    admin_stats = await (await client.get("/stats", headers=auth(ADMIN))).json()
    assert admin_stats["totals"]["done"] == 3 and admin_stats["workers"]
    breakdown = admin_stats["tenants"]
    assert (breakdown["alpha"]["totals"]["done"], breakdown["beta"]["totals"]["done"]) == (2, 1)


async def test_an_idempotency_key_belongs_to_its_tenant_and_means_one_request(service: Service) -> None:
    client = service.client
    first = await submit(client, ALPHA, "The first text.", **{"Idempotency-Key": "order-1"})
    again = await submit(client, ALPHA, "The first text.", **{"Idempotency-Key": "order-1"})
    assert again["id"] == first["id"], "the same request under the same key: the same job"
    beta = await submit(client, BETA, "Beta's text under a key alpha used.", **{"Idempotency-Key": "order-1"})
    assert beta["id"] != first["id"] and beta["summary"] != first["summary"]
    reused = await client.post(
        "/process", json={"text": "Another text."}, headers=auth(ALPHA) | {"Idempotency-Key": "order-1"}
    )
    assert reused.status == 422
    problem = await reused.json()
    assert (problem["type"], problem["job_id"]) == ("/problems/idempotency-key-reused", first["id"])
    assert await (await client.get("/jobs", headers=auth(ALPHA))).json() == {
        "jobs": [await (await client.get(f"/jobs/{first['id']}", headers=auth(ALPHA))).json()]
    }, "the refused request wrote nothing"


async def test_a_foreign_producers_bare_message_belongs_to_the_default_tenant(service: Service) -> None:
    client = service.client
    await service.redis.lpush(service.keys.queue, orjson.dumps({"id": "from-php-1", "text": "From PHP. Bare."}))

    async def done() -> bool:
        return await service.redis.hget(service.keys.job("from-php-1"), "status") == b"done"

    await eventually(done, what="the foreign job done")
    for key, status in ((ADMIN, 200), (BARE, 200), (ALPHA, 404)):
        assert (await client.get("/jobs/from-php-1", headers=auth(key))).status == status, key
    record = await (await client.get("/jobs/from-php-1", headers=auth(BARE))).json()
    assert (record["tenant"], record["status"]) == ("default", "done")
