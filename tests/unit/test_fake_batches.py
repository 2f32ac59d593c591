"""The fake Gemini server's Batch API, through the real google-genai SDK: what the batch lane
(issue 16) will be tested against must be what the SDK really sends and reads."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from google import genai
from google.genai import types
from google.genai.batches import AsyncBatches

from tests.fakes.gemini_batches import BatchPlan
from tests.fakes.gemini_server import Answer, FakeGemini


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini(default=Answer(model_version=None)) as server:
        yield server


@pytest.fixture
async def sdk(gemini: FakeGemini) -> AsyncIterator[AsyncBatches]:
    """The SDK's batches, on a session of our own (as GeminiSummarizer builds its client)."""
    async with aiohttp.ClientSession() as session:
        options = types.HttpOptions(
            base_url=gemini.base_url, retry_options=types.HttpRetryOptions(attempts=1), aiohttp_client=session
        )
        client = genai.Client(api_key="k", vertexai=False, http_options=options)
        yield client.aio.batches
        await client.aio.aclose()
        client.close()


def inline(text: str, key: str) -> types.InlinedRequest:
    return types.InlinedRequest(contents=text, metadata={"job": key})


async def test_a_batch_is_pending_then_answers_each_request_with_its_metadata(
    gemini: FakeGemini, sdk: AsyncBatches
) -> None:
    gemini.batches.plan(BatchPlan(after_s=3600, failing=frozenset({1})))
    requests = [inline(f"Text {i}. A sentence.", f"job-{i}") for i in range(3)]
    created = await sdk.create(model="gemini-batch", src=requests, config={"display_name": "run-1"})
    assert created.name and created.state == types.JobState.JOB_STATE_PENDING
    assert created.display_name == "run-1"
    assert (await sdk.get(name=created.name)).state == types.JobState.JOB_STATE_PENDING
    gemini.batches.finish(created.name)
    done = await sdk.get(name=created.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.dest is not None and done.dest.inlined_responses is not None
    answers = done.dest.inlined_responses
    assert [answer.metadata for answer in answers] == [{"job": f"job-{i}"} for i in range(3)]
    assert answers[0].response is not None and answers[0].response.text == "SUMMARY: Text 0. A sentence."
    assert answers[1].error is not None and answers[1].response is None, "a per-request error"
    assert answers[0].response.usage_metadata is not None


async def test_a_pending_batch_can_be_cancelled_and_an_expired_one_says_so(
    gemini: FakeGemini, sdk: AsyncBatches
) -> None:
    gemini.batches.plan(BatchPlan(after_s=60), BatchPlan(state="BATCH_STATE_EXPIRED"))
    waiting = await sdk.create(model="gemini-batch", src=[inline("A text.", "a")])
    assert waiting.name is not None
    await sdk.cancel(name=waiting.name)
    assert (await sdk.get(name=waiting.name)).state == types.JobState.JOB_STATE_CANCELLED
    expired = await sdk.create(model="gemini-batch", src=[inline("Another text.", "b")])
    assert expired.name is not None
    assert (await sdk.get(name=expired.name)).state == types.JobState.JOB_STATE_EXPIRED
