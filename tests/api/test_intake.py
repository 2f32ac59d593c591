"""POST /process: what is accepted, what is refused (problem+json, nothing enqueued)."""

from __future__ import annotations

import orjson
import pytest

from app.config import Settings
from tests.api.conftest import StartService
from tests.conftest import with_

ORIGINAL_CURL_BODY = b'{"text": "Your long text here..."}'


async def test_the_original_design_request_gets_202_queued_with_an_id(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings, worker=False)
    response = await service.client.post(
        "/process", data=ORIGINAL_CURL_BODY, headers={"Content-Type": "application/json"}
    )
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "queued"
    assert response.headers["Location"] == f"/jobs/{body['id']}"
    assert await service.queued() == 1
    job = await (await service.client.get(response.headers["Location"])).json()
    assert (job["id"], job["status"]) == (body["id"], "queued")


@pytest.mark.parametrize(
    "text",
    ["日本語の文章です。とても長い。", "Emoji 🎉🚀 and accents: café, naïve.", "مرحبا بالعالم", "a\u0000b"],
)
async def test_unicode_text_is_accepted_and_summarized(
    start_service: StartService, settings: Settings, text: str
) -> None:
    service = await start_service(settings)
    response = await service.client.post("/process?wait=10", json={"text": text})
    assert response.status == 200
    body = await response.json()
    assert (body["status"], body["summary"], body["text_chars"]) == ("done", text[:80], len(text))


BAD_REQUESTS = [
    # (body, content type, status, problem type, words the detail must contain)
    (b'{"text": "x", "priority": "urgent"}', "application/json", 422, "invalid-option", "'high', 'normal', 'low'"),
    (b'{"text": "x", "priority": 1}', "application/json", 422, "invalid-option", "'priority' must be one of"),
    (b'{"text": "x", "stream": "yes"}', "application/json", 422, "invalid-option", "'stream' must be true or false"),
    (b'{"text": "x", "mode": "later"}', "application/json", 422, "invalid-option", "'interactive' or 'batch'"),
    (b'{"text": "x", "mode": "batch", "stream": true}', "application/json", 422, "invalid-option", "answered whole"),
    (b'{"text": "x", "over_budget": "wait"}', "application/json", 422, "invalid-option", "needs 'mode' batch"),
    (
        b'{"text": "x", "mode": "batch", "over_budget": 1}',
        "application/json",
        422,
        "invalid-option",
        "'fail' or 'wait'",
    ),
    (b'{"text": "x"}', "text/plain", 415, "unsupported-media-type", "application/json"),
    (b"text=hello", "application/x-www-form-urlencoded", 415, "unsupported-media-type", "application/json"),
    (b'{"text": "unterminated', "application/json", 400, "invalid-json", "not valid JSON"),
    (b"", "application/json", 400, "invalid-json", "not valid JSON"),
    (b'"just a string"', "application/json", 422, "invalid-body", "JSON object"),
    (b"[1, 2]", "application/json", 422, "invalid-body", "JSON object"),
    (b"{}", "application/json", 422, "missing-text", "required"),
    (b'{"text": null}', "application/json", 422, "missing-text", "required"),
    (b'{"text": ""}', "application/json", 422, "empty-text", "empty"),
    (b'{"text": " \\n\\t "}', "application/json", 422, "empty-text", "empty"),
    (b'{"text": 42}', "application/json", 422, "invalid-text", "a number"),
    (b'{"text": ["a"]}', "application/json", 422, "invalid-text", "an array"),
    (b'{"text": {"a": 1}}', "application/json", 422, "invalid-text", "an object"),
    (b'{"text": true}', "application/json", 422, "invalid-text", "a boolean"),
    (b'{"text": "ok", "colour": 1}', "application/json", 422, "unknown-field", "colour"),
    (b'{"text": "\\ud800"}', "application/json", 400, "invalid-json", "not valid JSON"),
    (b'{"text": "' + b"a" * 101 + b'"}', "application/json", 422, "text-too-long", "101 characters"),
    (b'{"text": "' + b"a" * 20_000 + b'"}', "application/json", 413, "request-entity-too-large", "limit"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "kind", "words"), BAD_REQUESTS)
async def test_bad_input_gets_a_problem_and_enqueues_nothing(
    start_service: StartService, settings: Settings, body: bytes, content_type: str, status: int, kind: str, words: str
) -> None:
    service = await start_service(with_(settings, max_text_chars=100), worker=False)
    response = await service.client.post("/process", data=body, headers={"Content-Type": content_type})
    assert response.status == status
    assert response.content_type == "application/problem+json"
    problem = orjson.loads(await response.read())
    assert (problem["type"], problem["status"]) == (f"/problems/{kind}", status)
    assert words in problem["detail"]
    assert problem["title"]
    assert await service.queued() == 0
    assert await service.job_keys() == []


@pytest.mark.parametrize("wait", ["-1", "61", "soon", "nan", ""])
async def test_a_bad_wait_is_refused_before_anything_is_enqueued(
    start_service: StartService, settings: Settings, wait: str
) -> None:
    service = await start_service(settings, worker=False)
    response = await service.client.post(f"/process?wait={wait}", json={"text": "hello"})
    assert response.status == 400
    assert (await response.json(content_type=None))["type"] == "/problems/invalid-wait"
    assert await service.queued() == 0


async def test_unknown_routes_and_methods_answer_problem_json(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, worker=False)
    missing = await service.client.get("/nowhere")
    assert (missing.status, missing.content_type) == (404, "application/problem+json")
    wrong_method = await service.client.get("/process")
    assert (wrong_method.status, wrong_method.content_type) == (405, "application/problem+json")
    assert "POST" in wrong_method.headers["Allow"]


@pytest.mark.parametrize("job_id", ["0" * 32, "no such id", "x" * 500])
async def test_an_unknown_job_is_404(start_service: StartService, settings: Settings, job_id: str) -> None:
    service = await start_service(settings, worker=False)
    response = await service.client.get(f"/jobs/{job_id}")
    assert (response.status, response.content_type) == (404, "application/problem+json")


async def test_a_full_queue_answers_503_with_retry_after(start_service: StartService, settings: Settings) -> None:
    service = await start_service(with_(settings, max_queue_length=2), worker=False)
    for _ in range(2):
        assert (await service.client.post("/process", json={"text": "fill"})).status == 202
    response = await service.client.post("/process", json={"text": "one too many"})
    assert (response.status, response.content_type) == (503, "application/problem+json")
    assert int(response.headers["Retry-After"]) > 0
    assert await service.queued() == 2
    assert len(await service.job_keys()) == 2


async def test_the_limit_holds_per_lane_and_counts_no_wake_token(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(with_(settings, max_queue_length=2), worker=False)
    post = service.client.post
    assert (await post("/process", json={"text": "urgent", "priority": "high"})).status == 202  # leaves a wake token
    for _ in range(2):
        assert (await post("/process", json={"text": "plain"})).status == 202, "the token is no job"
    assert (await post("/process", json={"text": "one too many"})).status == 503
    assert (await post("/process", json={"text": "urgent 2", "priority": "high"})).status == 202
    refused = await post("/process", json={"text": "urgent 3", "priority": "high"})
    assert refused.status == 503, "the high lane holds its own limit"
    assert await service.queued() == 4 and len(await service.job_keys()) == 4, "the refused wrote nothing"


async def test_health_and_readiness(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings, worker=False)
    assert (await service.client.get("/healthz")).status == 200
    ready = await service.client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ready"


async def test_a_batch_job_without_a_batch_api_runs_at_once(start_service: StartService, settings: Settings) -> None:
    """The offline summarizer has no Batch API (and costs nothing): a batch job is answered as
    any other, and its record says nothing of a batch."""
    service = await start_service(settings)
    response = await service.client.post("/process?wait=10", json={"text": "Archive it. Later.", "mode": "batch"})
    assert response.status == 200
    record = await response.json()
    assert record["status"] == "done" and "mode" not in record and "batch" not in record
