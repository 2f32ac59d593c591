"""The options of POST /process (max_words, format, language): refused with a problem when
invalid, and carried to the model's prompt and the cache key when valid."""

from __future__ import annotations

import pytest

from app.client import AsyncClient
from app.config import Settings
from tests.api.conftest import SUMMARY, StartService
from tests.api.conftest import start_on_gemini as start
from tests.api.test_client import base_url
from tests.fakes.gemini_server import Answer, FakeGemini


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_words": 5}, "max_words"),
        ({"max_words": 1001}, "max_words"),
        ({"max_words": "50"}, "max_words"),
        ({"max_words": True}, "max_words"),
        ({"format": "table"}, "format"),
        ({"format": ["bullets"]}, "format"),
        ({"language": "english"}, "language"),
        ({"language": "xx"}, "language"),
        ({"language": 7}, "language"),
    ],
)
async def test_invalid_options_are_422_problems_and_enqueue_nothing(
    start_service: StartService, settings: Settings, gemini: FakeGemini, body: dict[str, object], field: str
) -> None:
    service = await start(start_service, settings, gemini)
    response = await service.client.post("/process", json={"text": "A text.", **body})
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert (problem["type"], problem["field"]) == ("/problems/invalid-option", field)
    assert field in problem["detail"]
    assert await service.job_keys() == []


async def test_options_reach_the_prompt_and_change_the_cache_key(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.default = Answer(text=SUMMARY)
    service = await start(start_service, settings, gemini)
    text = "A text about animals."
    async with AsyncClient(base_url(service)) as client:
        for options in ({}, {"max_words": 30, "format": "bullets", "language": "de-AT"}, {}):
            assert (await client.submit(text, wait_s=30, **options)).status == "done"
    plain, shaped = gemini.calls  # the third was the first's cached answer
    assert "at most 30 words" in shaped.system_instruction
    assert "bulleted list" in shaped.system_instruction
    assert "'de-AT'" in shaped.system_instruction
    assert "same language" in plain.system_instruction
