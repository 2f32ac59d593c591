"""GEMINI_MODEL with several models, through the real SDK against the fake server: an attempt goes
to the next model while the first is overloaded (503) or out of quota (429), the record names the
model that answered, at its own prices; with every model away the job is retried as with one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from app.queue.contract import Keys
from app.queue.message import new_message
from app.queue.store import Queue
from app.service import build_worker
from app.worker.runner import Worker
from tests.conftest import with_
from tests.fakes.gemini_server import Answer, FakeGemini, RateLimited, ServerError
from tests.helpers import eventually
from tests.redis_server import RedisServer

FIRST, SECOND = "gemini-first", "gemini-second"


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini(default=Answer(text="A summary.", model_version=None)) as server:
        yield server


@pytest.fixture
async def queue(redis_server: RedisServer, keys: Keys) -> AsyncIterator[Queue]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield Queue(client, keys, result_ttl_s=60)
    await client.aclose()


@pytest.fixture
async def worker(settings: Settings, queue: Queue, gemini: FakeGemini) -> AsyncIterator[Worker]:
    settings = with_(
        settings, max_attempts=2, retry_base_s=0.01, retry_max_s=0.02, fallback_after_s=5.0,
        gemini_prices=((FIRST, 1.0, 10.0), (SECOND, 0.5, 5.0)),
    )  # fmt: skip
    first, second = (GeminiSummarizer("k", model, gemini.base_url, 10) for model in (FIRST, SECOND))
    runner = build_worker(settings, queue, first, fallbacks=[second])
    task = asyncio.create_task(runner.run())
    yield runner
    runner.stop()
    await task
    await first.aclose()


async def done(queue: Queue, text: str) -> dict[str, object]:
    message = new_message(text)
    await queue.producer.enqueue(message)

    async def ended() -> bool:
        record = await queue.reads.get_job(message.id)
        return record is not None and record["status"] in ("done", "failed")

    await eventually(ended, what=f"job {text!r} ended")
    record = await queue.reads.get_job(message.id)
    assert record is not None
    return record


def calls_of(gemini: FakeGemini, model: str) -> int:
    return sum(call.model == model for call in gemini.calls)


def fallbacks(worker: Worker, model: str, reason: str) -> float:
    return worker.metrics.fallbacks.labels(model, reason)._value.get()  # type: ignore[attr-defined]


async def test_an_overloaded_model_hands_the_attempt_to_the_next_and_is_passed_over_a_while(
    worker: Worker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.script_model(FIRST, ServerError(503))
    record = await done(queue, "The first model is overloaded. The second answers.")
    assert (record["status"], record["model"], record["attempts"]) == ("done", SECOND, 1), "in the same attempt"
    assert fallbacks(worker, FIRST, "overloaded") == 1
    again = await done(queue, "Within FALLBACK_AFTER the first model is not asked.")
    assert again["model"] == SECOND and calls_of(gemini, FIRST) == 1
    assert fallbacks(worker, FIRST, "overloaded") == 2


async def test_a_model_out_of_quota_is_passed_over_by_every_worker_while_it_cools_down(
    worker: Worker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.script_model(FIRST, RateLimited(retry_delay="30s"))
    record = await done(queue, "The first model's quota is spent for 30 s.")
    assert (record["model"], record["attempts"]) == (SECOND, 1)
    again = await done(queue, "The shared cool-down says so to every worker.")
    assert again["model"] == SECOND and calls_of(gemini, FIRST) == 1
    assert fallbacks(worker, FIRST, "cooling") == 1


async def test_the_cost_is_at_the_prices_of_the_model_that_answered(
    worker: Worker, queue: Queue, gemini: FakeGemini
) -> None:
    plain = await done(queue, "Answered by the first model.")
    gemini.script_model(FIRST, ServerError(503))
    fell = await done(queue, "Answered by the second model.")
    for record, (paid_in, paid_out) in ((plain, (1.0, 10.0)), (fell, (0.5, 5.0))):
        expected = (int(record["prompt_tokens"]) * paid_in + int(record["output_tokens"]) * paid_out) / 1e6  # type: ignore[call-overload]
        assert record["cost_usd"] == pytest.approx(expected)


async def test_with_every_model_away_the_attempt_fails_and_the_job_is_retried(
    worker: Worker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.script_model(FIRST, ServerError(503))
    gemini.script_model(SECOND, ServerError(503))
    record = await done(queue, "Both overloaded once: the second attempt finds the second model back.")
    assert (record["status"], record["model"], record["attempts"]) == ("done", SECOND, 2)
    assert calls_of(gemini, FIRST) == 1, "the first stays passed over within FALLBACK_AFTER"


async def test_a_model_that_answers_badly_is_not_a_reason_to_fall_back(
    worker: Worker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.script_model(FIRST, ServerError(500), ServerError(500))
    record = await done(queue, "A 500 is the model's answer to this job, not its availability.")
    assert record["status"] == "failed" and calls_of(gemini, SECOND) == 0
