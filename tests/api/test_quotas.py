"""A tenant's quotas at intake, shared by every API replica through Redis: requests per minute,
jobs queued or running, model tokens per day. Over one: 429 problem+json with Retry-After and
the IETF RateLimit-Policy / RateLimit headers; nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from app.client import AsyncClient, TooManyRequests
from app.config import Settings
from tests.api.conftest import StartService
from tests.api.test_client import base_url
from tests.conftest import with_
from tests.fakes.summarizers import Recorder
from tests.helpers import eventually

KEY, OTHER = "quota-key-0123456789abcdef", "other-key-0123456789abcdef"


def tenants_file(tmp_path: Path, **quota: float) -> str:
    lines = ["[tenants.acme]", f'keys = ["{KEY}"]', *(f"{k} = {v}" for k, v in quota.items())]
    lines += ["[tenants.other]", f'keys = ["{OTHER}"]']
    path = tmp_path / "tenants.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


Answer = tuple[int, dict[str, object], dict[str, str]]


async def post(client: TestClient, key: str = KEY, text: str = "A text.") -> Answer:
    response = await client.post("/process", json={"text": text}, headers={"Authorization": f"Bearer {key}"})
    return response.status, await response.json(), dict(response.headers)


async def until_admitted(client: TestClient, timeout_s: float, what: str, left: int | None = None) -> None:
    """POST until one is accepted (and, with `left`, says that many requests are left)."""

    async def admitted() -> bool:
        status, _, headers = await post(client)
        return status == 202 and (left is None or headers["RateLimit"].startswith(f'"requests";r={left};'))

    await eventually(admitted, timeout_s=timeout_s, what=what)


async def test_the_request_rate_is_one_limit_across_api_replicas(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    configured = with_(settings, api_keys_file=tenants_file(tmp_path, requests_per_minute=5))
    first, second = await start_service(configured, worker=False), await start_service(configured, worker=False)
    answers = [await post((first, second)[i % 2].client, text=f"text {i}") for i in range(8)]
    assert [status for status, _, _ in answers] == [202] * 5 + [429] * 3
    _, problem, headers = answers[-1]
    assert problem["type"] == "/problems/rate-limited"
    assert 1 <= int(headers["Retry-After"]) <= 12, "one request in 60 / 5 s is admitted again"
    assert headers["RateLimit-Policy"] == '"requests";q=5;w=60'
    assert headers["RateLimit"].startswith('"requests";r=0;t=')
    assert answers[0][2]["RateLimit"].startswith('"requests";r=4;'), "a 202 says what is left too"
    assert await first.queued() == 5, "the refused wrote nothing"
    assert (await post(first.client, OTHER))[0] == 202, "another tenant's quota is its own"


async def test_the_rate_quota_admits_again_after_its_retry_after(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    configured = with_(settings, api_keys_file=tenants_file(tmp_path, requests_per_minute=120))
    service = await start_service(configured, worker=False)
    statuses = [(await post(service.client, text=f"t{i}"))[0] for i in range(121)]
    assert statuses.count(202) == 120 and statuses[-1] == 429
    await until_admitted(service.client, 3, "admitted within the 0.5 s interval of 120 a minute")


async def test_jobs_queued_or_running_are_capped_until_some_end(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    configured = with_(settings, api_keys_file=tenants_file(tmp_path, max_active_jobs=3))
    service = await start_service(configured, worker=False)
    assert [(await post(service.client, text=f"t{i}"))[0] for i in range(3)] == [202] * 3
    status, problem, headers = await post(service.client)
    assert (status, problem["type"]) == (429, "/problems/too-many-active-jobs")
    assert headers["RateLimit-Policy"] == '"active-jobs";q=3' and int(headers["Retry-After"]) >= 1
    worker = await start_service(configured)  # a worker ends them: the tenant may send more
    await until_admitted(worker.client, 15, "admitted once its jobs ended")


async def test_a_daily_token_budget_refuses_new_jobs_once_spent_until_the_day_ends(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    configured = with_(settings, api_keys_file=tenants_file(tmp_path, daily_tokens=100))
    service = await start_service(configured, Recorder(usage=(80, 30)))
    async with AsyncClient(base_url(service), api_key=KEY) as client:
        assert (await client.submit("A paid text.", wait_s=15)).status == "done"
    status, problem, headers = await post(service.client)  # raw: its headers are under test
    assert (status, problem["type"]) == (429, "/problems/budget-spent")
    assert 0 < int(headers["Retry-After"]) <= 86_400, "until the UTC day ends"
    assert headers["RateLimit-Policy"] == '"daily-tokens";q=100;w=86400' and "RateLimit" not in headers
    assert (await post(service.client, OTHER))[0] == 202


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("[tenants.acme]\nkeys = ['short']\n", "keys must be a list of 16-256"),
        ("[tenants.Acme]\nkeys = []\n", "tenant name 'Acme'"),
        ("[tenants.acme]\nrequests_per_minute = -1\n", "requests_per_minute = -1"),
        ("[tenants.acme]\nburst = 1\n", "unknown field(s) ['burst']"),
        ("[tenants.acme\n", "not valid TOML"),
    ],
)
def test_a_bad_tenants_file_is_refused_at_start_naming_what_is_wrong(
    settings: Settings, tmp_path: Path, content: str, complaint: str
) -> None:
    from app.config import ConfigError
    from app.tenants import Tenants

    path = tmp_path / "tenants.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        Tenants.from_settings(with_(settings, api_keys_file=str(path)))
    assert complaint in str(caught.value)


async def test_only_accepted_jobs_are_charged_to_the_rate(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    configured = with_(settings, api_keys_file=tenants_file(tmp_path, requests_per_minute=3, max_active_jobs=1))
    service = await start_service(configured, worker=False)
    first = await post(service.client)
    assert first[0] == 202 and first[2]["RateLimit"].startswith('"requests";r=2;')
    for _ in range(3):  # refused for the active cap: nothing written, nothing charged
        status, problem, headers = await post(service.client)
        assert (status, problem["type"], headers["Retry-After"]) == (429, "/problems/too-many-active-jobs", "5")
        assert "RateLimit" not in headers
    await start_service(configured)  # a worker ends the first job
    await until_admitted(service.client, 15, "admitted, with one of three requests used before", left=1)


async def test_a_burst_gets_exactly_its_quota_and_the_count_down_is_exact(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    configured = with_(settings, api_keys_file=tenants_file(tmp_path, requests_per_minute=9))
    service = await start_service(configured, worker=False)
    answers = [await post(service.client, text=f"t{i}") for i in range(10)]
    assert [status for status, _, _ in answers] == [202] * 9 + [429]
    lefts = [headers["RateLimit"].split(";")[1] for _, _, headers in answers]
    assert lefts == [f"r={n}" for n in range(8, -1, -1)] + ["r=0"]


async def test_an_open_service_holds_its_one_user_to_the_default_quotas(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(with_(settings, tenant_rpm=2), worker=False)
    statuses = []
    for i in range(3):
        response = await service.client.post("/process", json={"text": f"t{i}"})
        statuses.append(response.status)
    assert statuses == [202, 202, 429]


async def test_jobs_accepted_before_the_budget_was_spent_fail_budget_exhausted_without_a_call(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    configured = with_(settings, api_keys_file=tenants_file(tmp_path, daily_tokens=100), worker_concurrency=1)
    model = Recorder(gated=True, usage=(80, 30))
    service = await start_service(configured, model)
    async with AsyncClient(base_url(service), api_key=KEY) as client:
        ids = [(await client.submit(f"Text {i}.")).id for i in range(3)]  # all admitted
        model.gate.set()  # the first spends 110 tokens of 100; the other two were queued already
        records = [(await client.get(i, wait_s=15)).record for i in ids]
    assert [r["status"] for r in records] == ["done", "failed", "failed"]
    assert all(r["error"].startswith("budget-exhausted") for r in records[1:])
    assert len(model.calls) == 1, "no model call for a tenant whose budget is spent"
    numbers = await (await service.client.get("/stats", headers={"Authorization": f"Bearer {KEY}"})).json()
    assert numbers["today"] == {"tokens": 110, "cost_usd": 0.0, "budget_tokens": 100, "budget_cost_usd": 0.0}


async def test_a_daily_cost_budget_refuses_new_jobs_once_spent(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    priced = with_(settings, gemini_price_input_per_m=1000.0, gemini_price_output_per_m=1000.0)  # 0.11 USD a job
    configured = with_(priced, api_keys_file=tenants_file(tmp_path, daily_cost_usd=0.1))
    service = await start_service(configured, Recorder(usage=(80, 30)))
    async with AsyncClient(base_url(service), api_key=KEY) as client:
        assert (await client.submit("A paid text.", wait_s=15)).record["cost_usd"] == pytest.approx(0.11)
        with pytest.raises(TooManyRequests) as refused:
            await client.submit("A text.")
    assert (refused.value.status, refused.value.problem["type"]) == (429, "/problems/budget-spent")
    auth = {"Authorization": f"Bearer {KEY}"}
    numbers = await (await service.client.get("/stats", headers=auth)).json()
    assert numbers["today"]["cost_usd"] == pytest.approx(0.11) and numbers["today"]["budget_cost_usd"] == 0.1
