"""What an operator reads and guards: /metrics, /stats, logs, API keys and CORS."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.client import AsyncClient
from app.config import Settings
from app.logs import JsonFormatter
from app.model.summarizers.gemini import GeminiSummarizer
from tests.api.conftest import Service, StartService
from tests.api.test_client import base_url
from tests.conftest import with_
from tests.fakes.gemini_server import BadRequest, FakeGemini

KEY = "k-0123456789abcdef-operator"
SECRET_TEXT = "The launch code is swordfish-42-alpha. " * 5


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text, parsed by prometheus_client's own parser: {(name, labels): value}."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def run_jobs(service: Service, count: int, api_key: str | None = None) -> None:
    async with AsyncClient(base_url(service), api_key=api_key) as client:
        for i in range(count):
            assert (await client.submit(f"job {i}", wait_s=10)).status == "done"


async def test_metrics_count_jobs_and_show_the_queue(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings)
    await run_jobs(service, 3)
    response = await service.client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    api = samples(await response.text())
    assert api[("summarize_jobs_enqueued_total", ())] == 3
    assert api[("summarize_queue_jobs", (("state", "queued"),))] == 0
    assert ("summarize_queue_jobs", (("state", "dead"),)) in api
    assert api[("summarize_workers", (("alive", "true"),))] == 1, "the worker's heartbeat, seen by the API"
    assert api[("summarize_batch", (("what", "in_flight"),))] == 0
    assert service.worker is not None
    worker = samples(service.worker.metrics.render().decode())
    assert worker[("summarize_jobs_done_total", ())] == 3
    assert worker[("summarize_job_end_to_end_seconds_count", ())] == 3
    assert worker[("summarize_job_queue_wait_seconds_count", ())] == 3
    assert worker[("summarize_jobs_in_flight", ())] == 0


async def test_stats_show_workers_totals_and_rates(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings)
    await run_jobs(service, 4)
    first = await (await service.client.get("/stats")).json()
    assert (first["queued"], first["processing"], first["delayed"], first["dead"]) == (0, 0, 0, 0)
    assert first["totals"] == {
        "enqueued": 4,
        "done": 4,
        "failed": 0,
        "expired": 0,
        "cancelled": 0,
        "retried": 0,
        "recovered": 0,
    }
    [worker] = first["workers"]
    assert worker["alive"] and worker["processing"] == 0
    assert 0 <= worker["heartbeat_age_s"] <= settings.heartbeat_ttl_s
    await run_jobs(service, 2)
    rates = (await (await service.client.get("/stats")).json())["rates_per_minute"]
    assert rates["window_s"] > 0
    assert rates["done"] > 0 and rates["enqueued"] > 0


async def test_api_keys_guard_everything_but_probes_and_metrics(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(with_(settings, api_keys=(KEY, "another-key-0123456789")))
    client = service.client
    missing = await client.post("/process", json={"text": "t"})
    assert missing.status == 401
    assert missing.content_type == "application/problem+json"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = await client.get("/stats", headers={"Authorization": "Bearer not-the-key-at-all-0000"})
    assert wrong.status == 401
    assert KEY not in await wrong.text()
    for path in ("/jobs/x", "/jobs", "/jobs/x/events", "/stats"):
        assert (await client.get(path)).status == 401, path
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status == 200, path
    await run_jobs(service, 1, api_key=KEY)
    assert await service.queued() == 0


async def test_metrics_auth_closes_metrics(start_service: StartService, settings: Settings) -> None:
    service = await start_service(with_(settings, api_keys=(KEY,), metrics_auth=True), worker=False)
    assert (await service.client.get("/metrics")).status == 401
    assert (await service.client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})).status == 200


async def test_cors_lets_listed_origins_call_and_read_streams(start_service: StartService, settings: Settings) -> None:
    service = await start_service(with_(settings, cors_origins=("https://app.example",), api_keys=(KEY,)))
    client = service.client
    preflight = await client.options(
        "/process",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )  # fmt: skip
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    auth = {"Authorization": f"Bearer {KEY}", "Origin": "https://app.example"}
    accepted = await client.post("/process", json={"text": "from a browser"}, headers=auth)
    assert accepted.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Location" in accepted.headers["Access-Control-Expose-Headers"]
    job_id = (await accepted.json())["id"]
    async with client.get(f"/jobs/{job_id}/events", headers=auth) as stream:
        assert stream.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_logs_carry_job_ids_but_never_a_text_or_the_api_key(
    start_service: StartService, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret_key = "AIza-sekrit-0123456789-abcdefghij"
    async with FakeGemini(default=BadRequest(f"API key not valid: {secret_key}")) as gemini:
        summarizer = GeminiSummarizer(secret_key, f"gemini-{settings.queue_name}", gemini.base_url, 10)
        service = await start_service(settings, summarizer)
        with caplog.at_level(logging.INFO):
            async with AsyncClient(base_url(service)) as client:
                job = await client.submit(SECRET_TEXT, wait_s=10)
            await asyncio.sleep(0)  # the worker's log line for the ending comes with the ending
    assert job.status == "failed"
    lines = [JsonFormatter().format(record) for record in caplog.records]
    mine = [line for line in lines if job.id in line]
    assert any('"event":"job accepted"' in line and '"text_hash"' in line for line in mine)
    assert any('"event":"job failed"' in line for line in mine)
    assert not [line for line in lines if "swordfish" in line or secret_key in line]
