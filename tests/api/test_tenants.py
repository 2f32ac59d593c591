"""Two tenants and an admin across every route: each sees its own jobs and numbers, another
tenant's job is a 404 (never a 403), and an Idempotency-Key belongs to its tenant."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiohttp.test_utils import TestClient

from app.client import AsyncClient, InvalidRequest, NotFound
from app.config import Settings
from tests.api.conftest import Service, StartService
from tests.api.test_client import base_url
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
    url = base_url(service)
    async with AsyncClient(url, api_key=BETA) as beta, AsyncClient(url, api_key=BARE) as bare:
        with pytest.raises(NotFound) as never_was:
            await beta.get("no-such-job")
        unknown = never_was.value.problem
        for key in (ALPHA, ADMIN):  # raw: the 200 is under test
            assert (await client.get(f"/jobs/{job['id']}", headers=auth(key))).status == 200, key
        for key, reader in ((BETA, beta), (BARE, bare)):
            with pytest.raises(NotFound) as refused:
                await reader.get(str(job["id"]))
            assert refused.value.status == 404, key
            # the same answer as for an id that never was, but for the id itself
            body = refused.value.problem
            assert {k: v for k, v in body.items() if k not in ("detail", "instance")} == {
                k: v for k, v in unknown.items() if k not in ("detail", "instance")
            }
            assert "alpha" not in body["detail"] and "summary" not in body


async def test_another_tenants_job_is_a_404_at_once_even_with_wait(service: Service) -> None:
    job = await submit(service.client, ALPHA, "A text beta must not learn about.")
    async with AsyncClient(base_url(service), api_key=BETA) as beta:
        with pytest.raises(NotFound) as refused:
            async with asyncio.timeout(10):  # a wait of 60 s is not served to beta: it is a 404 now
                await beta.get(str(job["id"]), wait_s=60)
    assert refused.value.status == 404


async def test_event_streams_follow_the_same_rule(service: Service) -> None:
    client = service.client
    job = await submit(client, ALPHA, "Streamed to its owner only. Nobody else.")
    async with AsyncClient(base_url(service), api_key=BETA) as beta:
        with pytest.raises(NotFound) as refused:
            await anext(beta.stream(str(job["id"])))
    assert refused.value.status == 404
    own = await client.get(f"/jobs/{job['id']}/events", headers=auth(ALPHA))  # raw: its 200 is under test
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
    async with AsyncClient(base_url(service), api_key=ALPHA) as alpha:
        with pytest.raises(InvalidRequest) as reused:
            await alpha.submit("Another text.", idempotency_key="order-1")
        assert reused.value.status == 422
        problem = reused.value.problem
        assert (problem["type"], problem["job_id"]) == ("/problems/idempotency-key-reused", first["id"])
        assert await (await client.get("/jobs", headers=auth(ALPHA))).json() == {
            "jobs": [(await alpha.get(str(first["id"]))).record]
        }, "the refused request wrote nothing"


async def test_a_foreign_producers_bare_message_belongs_to_the_default_tenant(service: Service) -> None:
    client = service.client
    await service.redis.lpush(service.keys.queue, orjson.dumps({"id": "from-php-1", "text": "From PHP. Bare."}))

    async def done() -> bool:
        return await service.redis.hget(service.keys.job("from-php-1"), "status") == b"done"

    await eventually(done, what="the foreign job done")
    for key in (ADMIN, BARE):  # raw: the 200 is under test
        assert (await client.get("/jobs/from-php-1", headers=auth(key))).status == 200, key
    url = base_url(service)
    async with AsyncClient(url, api_key=ALPHA) as alpha, AsyncClient(url, api_key=BARE) as bare:
        with pytest.raises(NotFound) as refused:
            await alpha.get("from-php-1")
        assert refused.value.status == 404, ALPHA
        record = await bare.get("from-php-1")
    assert (record.record["tenant"], record.status) == ("default", "done")
