"""GeminiSummarizer driving the real google-genai SDK against FakeGemini (no mocks)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from app.model.summarizers.base import SummarizerError, Summary, no_emit
from app.model.summarizers.gemini import GeminiSummarizer
from app.model.summarizers.prompt import system_instruction
from app.options import NO_OPTIONS, Options
from tests.fakes.gemini_server import (
    Answer,
    BadRequest,
    Blocked,
    FakeGemini,
    Garbage,
    Hang,
    RateLimited,
    ServerError,
    answer_tokens,
    default_summary,
)

API_KEY = "test-key-0123456789-secret"
MODEL = "gemini-test-model"
TEXT = "The quick brown fox jumps over the lazy dog. It was a sunny day in the forest."


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    async with FakeGemini() as server:
        yield server


@pytest.fixture
async def summarizer(fake: FakeGemini) -> AsyncIterator[GeminiSummarizer]:
    gemini = GeminiSummarizer(api_key=API_KEY, model=MODEL, base_url=fake.base_url, timeout_s=5)
    yield gemini
    await gemini.aclose()


async def summarize(summarizer: GeminiSummarizer, options: Options = NO_OPTIONS) -> Summary:
    return await summarizer.summarize(TEXT, options, no_emit)


async def failure(summarizer: GeminiSummarizer) -> SummarizerError:
    """The SummarizerError one summarize() raises, checked to keep the API key out."""
    with pytest.raises(SummarizerError) as caught:
        await summarize(summarizer)
    assert API_KEY not in str(caught.value)
    return caught.value


async def test_summary_is_the_servers_text_and_model_version(summarizer: GeminiSummarizer) -> None:
    summary = await summarize(summarizer)
    assert summary.text == default_summary(TEXT).strip()
    assert summary.model == "gemini-fake-001"
    assert not summary.truncated


async def test_the_answer_is_streamed_in_order_and_the_pieces_make_the_summary(
    fake: FakeGemini, summarizer: GeminiSummarizer
) -> None:
    fake.script(Answer(text="One fox. Two dogs. Three birds sing in the trees.", chunks=4))
    pieces: list[str] = []

    async def collect(delta: str) -> None:
        pieces.append(delta)

    summary = await summarizer.summarize(TEXT, NO_OPTIONS, collect)
    assert len(pieces) == 4
    assert "".join(pieces) == summary.text == "One fox. Two dogs. Three birds sing in the trees."
    assert fake.calls[0].stream


async def test_usage_is_what_the_model_reported(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    summary = await summarize(summarizer)
    [call] = fake.calls
    assert summary.prompt_tokens == call.prompt_tokens
    assert summary.output_tokens == answer_tokens(default_summary(TEXT))


async def test_max_tokens_keeps_the_text_and_marks_it_truncated(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    fake.script(Answer(text="A fox jumps over", finish_reason="MAX_TOKENS"))
    summary = await summarize(summarizer)
    assert (summary.text, summary.truncated) == ("A fox jumps over", True)


async def test_model_falls_back_to_the_configured_one(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    fake.script(Answer(text="  A fox jumps.\n", model_version=None))
    summary = await summarize(summarizer)
    assert (summary.text, summary.model) == ("A fox jumps.", MODEL)


async def test_request_carries_model_key_text_and_system_instruction(
    fake: FakeGemini, summarizer: GeminiSummarizer
) -> None:
    await summarize(summarizer)
    [call] = fake.calls
    assert call.model == MODEL
    assert call.api_key == API_KEY
    assert call.prompt == TEXT
    assert call.system_instruction == system_instruction(NO_OPTIONS)
    assert "same language as the text" in call.system_instruction


async def test_options_change_the_prompt_the_model_receives(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    await summarize(summarizer, Options(max_words=40, format="bullets", language="pt-BR"))
    instruction = fake.calls[0].system_instruction
    assert "at most 40 words" in instruction
    assert "bulleted list" in instruction
    assert "'pt-BR'" in instruction
    assert "same language" not in instruction


async def test_429_is_transient_with_retry_delay_and_not_retried_by_the_sdk(
    fake: FakeGemini, summarizer: GeminiSummarizer
) -> None:
    fake.script(RateLimited(retry_delay="2s"))
    error = await failure(summarizer)
    assert error.transient
    assert error.quota
    assert error.retry_after_s == 2
    assert len(fake.calls) == 1


async def test_429_falls_back_to_retry_after_header(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    fake.script(RateLimited(retry_delay=None, retry_after_header="7"))
    assert (await failure(summarizer)).retry_after_s == 7


async def test_500_is_transient(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    fake.script(ServerError(500))
    error = await failure(summarizer)
    assert error.transient
    assert not error.quota
    assert error.retry_after_s is None
    assert len(fake.calls) == 1


async def test_400_is_not_transient(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    fake.script(BadRequest())
    assert not (await failure(summarizer)).transient


async def test_error_messages_never_echo_the_key(fake: FakeGemini, summarizer: GeminiSummarizer) -> None:
    fake.script(BadRequest(message=f"API key not valid: {API_KEY}"))
    await failure(summarizer)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (Blocked("SAFETY"), "blocked the prompt: SAFETY"),
        (Blocked(None), "no candidates"),
        (Answer(text="", finish_reason="SAFETY"), "finish_reason SAFETY"),
        (Answer(text="", finish_reason="RECITATION"), "finish_reason RECITATION"),
        (Answer(text="   "), "empty answer"),
    ],
)
async def test_blocked_or_empty_answers_are_not_transient(
    fake: FakeGemini, summarizer: GeminiSummarizer, behaviour: Blocked | Answer, reason: str
) -> None:
    fake.script(behaviour)
    error = await failure(summarizer)
    assert not error.transient
    assert reason in str(error)


@pytest.mark.parametrize("code", [200, 502])
async def test_non_json_body_is_transient(fake: FakeGemini, summarizer: GeminiSummarizer, code: int) -> None:
    fake.script(Garbage(code))
    assert (await failure(summarizer)).transient


async def test_hang_times_out_as_transient(fake: FakeGemini) -> None:
    fake.script(Hang())
    gemini = GeminiSummarizer(api_key=API_KEY, model=MODEL, base_url=fake.base_url, timeout_s=0.5)
    try:
        error = await failure(gemini)
    finally:
        await gemini.aclose()
    assert error.transient
    assert len(fake.calls) == 1


async def test_unreachable_server_is_transient() -> None:
    async with FakeGemini() as server:
        base_url = server.base_url  # the port is free again once the server stops
    gemini = GeminiSummarizer(api_key=API_KEY, model=MODEL, base_url=base_url, timeout_s=5)
    started = time.monotonic()
    try:
        assert (await failure(gemini)).transient
    finally:
        await gemini.aclose()
    # Without retry_options the SDK silently sleeps 1-10 s and reconnects once.
    assert time.monotonic() - started < 1
