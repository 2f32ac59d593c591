"""max_output_tokens: a job's own cap on what the model writes, within MAX_OUTPUT_TOKENS, sent
to the model through the real SDK (generationConfig.maxOutputTokens)."""

from __future__ import annotations

import pytest

from app.client import AsyncClient, InvalidRequest
from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from tests.api.conftest import StartService
from tests.api.test_client import base_url
from tests.conftest import with_
from tests.fakes.gemini_server import FakeGemini


async def test_a_job_caps_its_output_within_the_services_cap(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    settings = with_(settings, max_output_tokens=100)
    summarizer = GeminiSummarizer("k", "gemini-capped", gemini.base_url, 30, max_output_tokens=100)
    service = await start_service(settings, summarizer)
    async with AsyncClient(base_url(service)) as client:
        for text, cap in (("Capped by the job.", 64), ("Capped by the service.", None)):
            assert (await client.submit(text, wait_s=10, max_output_tokens=cap)).status == "done"
        caps = [call.body.get("generationConfig", {}).get("maxOutputTokens") for call in gemini.calls]
        assert caps == [64, 100]
        with pytest.raises(InvalidRequest) as over:
            await client.submit("Asks too much.", max_output_tokens=500)
    problem = over.value.problem
    assert (over.value.status, problem["field"]) == (422, "max_output_tokens")
    assert "MAX_OUTPUT_TOKENS" in problem["detail"] and len(gemini.calls) == 2, "nothing enqueued"
