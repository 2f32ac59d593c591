"""Model errors through the real google-genai SDK: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import orjson

from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from tests.api.conftest import Service, StartService
from tests.conftest import with_
from tests.fakes.gemini_server import BadRequest, FakeGemini, Hang, RateLimited, ServerError


async def start(start_service: StartService, settings: Settings, gemini: FakeGemini, **changes: object) -> Service:
    settings = with_(settings, max_attempts=3, retry_base_s=0.05, retry_max_s=0.2, **changes)
    # A model of its own: the shared quota's keys are per model, and other tests' 429s must not hold this one.
    model = f"gemini-{settings.queue_name}"
    summarizer = GeminiSummarizer(api_key="k", model=model, base_url=gemini.base_url, timeout_s=30)
    return await start_service(settings, summarizer)


async def submit(service: Service) -> dict[str, object]:
    response = await service.client.post("/process?wait=30", json={"text": "a text"})
    assert response.status == 200
    return await response.json()


async def test_429_with_retry_info_twice_then_ok_is_done_after_3_calls(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.script(RateLimited(retry_delay="0.4s"), RateLimited(retry_delay="0.4s"))
    job = await submit(await start(start_service, settings, gemini))
    assert (job["status"], job["attempts"]) == ("done", 3)
    assert len(gemini.calls) == 3
    gaps = [b.at - a.at for a, b in zip(gemini.calls, gemini.calls[1:], strict=False)]
    assert min(gaps) >= 0.4, f"the retry delay the model asked for was not honoured: {gaps}"


async def test_400_fails_at_once(start_service: StartService, settings: Settings, gemini: FakeGemini) -> None:
    gemini.script(BadRequest("Request contains an invalid argument."))
    job = await submit(await start(start_service, settings, gemini))
    assert (job["status"], job["attempts"]) == ("failed", 1)
    assert "400" in str(job["error"])
    assert len(gemini.calls) == 1


async def test_500_forever_fails_after_max_attempts_and_is_dead_lettered(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.default = ServerError(500)
    service = await start(start_service, settings, gemini)
    job = await submit(service)
    assert (job["status"], job["attempts"]) == ("failed", 3)
    assert "MAX_ATTEMPTS" in str(job["error"])
    assert len(gemini.calls) == 3
    [dead] = [orjson.loads(e) for e in await service.redis.lrange(service.keys.dead, 0, -1)]
    assert dead["id"] == job["id"]
    assert "500" in dead["reason"]


async def test_a_hanging_model_times_out_is_retried_then_fails(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.default = Hang()
    job = await submit(await start(start_service, settings, gemini, job_timeout_s=0.3))
    assert (job["status"], job["attempts"]) == ("failed", 3)
    assert "timed out" in str(job["error"]) or "did not answer" in str(job["error"])
    assert len(gemini.calls) == 3
