"""max_output_tokens: a job's own cap on what the model writes, within MAX_OUTPUT_TOKENS, sent
to the model through the real SDK (generationConfig.maxOutputTokens)."""

from __future__ import annotations

from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.fakes.gemini_server import FakeGemini


async def test_a_job_caps_its_output_within_the_services_cap(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    settings = with_(settings, max_output_tokens=100)
    summarizer = GeminiSummarizer("k", "gemini-capped", gemini.base_url, 30, max_output_tokens=100)
    service = await start_service(settings, summarizer)
    for body in ({"text": "Capped by the job.", "max_output_tokens": 64}, {"text": "Capped by the service."}):
        response = await service.client.post("/process?wait=10", json=body)
        assert (await response.json())["status"] == "done"
    caps = [call.body.get("generationConfig", {}).get("maxOutputTokens") for call in gemini.calls]
    assert caps == [64, 100]
    over = await service.client.post("/process", json={"text": "Asks too much.", "max_output_tokens": 500})
    problem = await over.json()
    assert (over.status, problem["field"]) == (422, "max_output_tokens")
    assert "MAX_OUTPUT_TOKENS" in problem["detail"] and len(gemini.calls) == 2, "nothing enqueued"
