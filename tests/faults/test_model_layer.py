"""The model layer across workers, through the real google-genai SDK against the fake Gemini:
the shared quota (GEMINI_RPM, GEMINI_TPM, 429 cool-downs), the result cache, usage and cost."""

from __future__ import annotations

import asyncio

import pytest

from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from tests.api.conftest import Service, StartService
from tests.conftest import with_
from tests.fakes.gemini_server import Answer, Call, Delay, FakeGemini, RateLimited, answer_tokens, default_summary
from tests.helpers import eventually


async def start_workers(
    start_service: StartService, settings: Settings, gemini: FakeGemini, workers: int = 3, **changes: object
) -> Service:
    """`workers` workers (each with its own Redis client and SDK client, sharing only Redis,
    as processes would) and the API of the first. The model is the test's own: quota keys are
    per model, and no other test's schedule or cool-down may touch this one."""
    settings = with_(settings, max_attempts=3, retry_base_s=0.05, retry_max_s=0.2, **changes)
    model = f"gemini-{settings.queue_name}"
    services = [
        await start_service(settings, GeminiSummarizer("k", model, gemini.base_url, settings.job_timeout_s))
        for _ in range(workers)
    ]
    return services[0]


async def submit_all(service: Service, texts: list[str], **options: object) -> list[dict[str, object]]:
    async def one(text: str) -> dict[str, object]:
        response = await service.client.post("/process?wait=60", json={"text": text, **options})
        assert response.status == 200, await response.text()
        return await response.json()

    return await asyncio.gather(*(one(text) for text in texts))


def most_in_any_window(calls: list[Call], window_s: float, weight: dict[int, int] | None = None) -> int:
    """The most calls (or, with `weight`, tokens) whose arrival falls in any window of `window_s`."""
    times = sorted((call.at, weight[id(call)] if weight else 1) for call in calls)
    most = 0
    for i, (start, _) in enumerate(times):
        most = max(most, sum(w for at, w in times[i:] if at < start + window_s))
    return most


async def test_three_workers_under_gemini_rpm_never_exceed_it_and_waiting_is_not_timed(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    # 600 a minute is one call per 100 ms. JOB_TIMEOUT is 1 s, while the last of 40 jobs
    # waits about 4 s for its turn: waiting must not count against the call's deadline.
    service = await start_workers(start_service, settings, gemini, gemini_rpm=600, job_timeout_s=1.0)
    jobs = await submit_all(service, [f"text number {i}." for i in range(40)])
    assert {(job["status"], job["attempts"]) for job in jobs} == {("done", 1)}
    calls = gemini.calls
    assert len(calls) == 40
    # The limiter books slots 100 ms apart on Redis's clock: a window holds its share plus one
    # call for its edges. Calls are seen here as they arrive, after the worker's sleep and the
    # SDK's work, which a loaded machine can delay by up to a slot, bunching two arrivals: one
    # call more. The mean rate below has no such slack.
    assert most_in_any_window(calls, 1.0) <= 12
    assert most_in_any_window(calls, 2.0) <= 22
    span = max(c.at for c in calls) - min(c.at for c in calls)
    assert (len(calls) - 1) / span <= 10.5, f"measured {(len(calls) - 1) / span:.2f} calls/s"


async def test_gemini_tpm_bounds_the_tokens_of_every_window(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    # 60,000 tokens a minute is 1,000 a second; each call here is ~300 tokens (known: the
    # fake counts 4 characters a token and reports it, which the limiter settles against).
    service = await start_workers(start_service, settings, gemini, gemini_tpm=60_000)
    texts = [f"{i:04d} " + "word " * 160 for i in range(24)]
    jobs = await submit_all(service, texts, max_words=50)
    assert {job["status"] for job in jobs} == {"done"}
    used = {id(c): c.prompt_tokens + answer_tokens(default_summary(c.prompt)) for c in gemini.calls}
    biggest_estimate = max(int(j["prompt_tokens"]) for j in jobs) + 100  # the estimate's output part
    for window_s in (1.0, 2.0):
        assert most_in_any_window(gemini.calls, window_s, used) <= 1000 * window_s + biggest_estimate


async def test_a_429_holds_every_worker_back_for_the_delay_it_asked_for(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.script(RateLimited(retry_delay="2s"))
    service = await start_workers(start_service, settings, gemini)
    first = asyncio.create_task(submit_all(service, ["the first text."]))

    async def retried() -> bool:  # the cool-down is set before the retry is recorded
        return b"429" in (await _any_job_field(service, b"error") or b"")

    await eventually(retried, what="the first job's 429 recorded")
    rest = await submit_all(service, [f"text {i}." for i in range(20)])
    [done] = await first
    assert {job["status"] for job in [*rest, done]} == {"done"}
    assert done["attempts"] == 2
    rate_limited, later = gemini.calls[0], gemini.calls[1:]
    assert len(later) == 21
    waited = min(call.at for call in later) - rate_limited.at
    assert waited >= 2.0, f"a worker called the model {waited:.3f} s after a 429 that asked for 2 s"


async def _any_job_field(service: Service, field: bytes) -> bytes | None:
    async for key in service.redis.scan_iter(match=service.keys.job("*")):
        return await service.redis.hget(key, field)
    return None


async def test_identical_submissions_share_one_model_call(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.default = Delay(0.5, Answer(text="The one summary."))
    service = await start_workers(start_service, settings, gemini)
    jobs = await submit_all(service, ["The same text, sent a hundred times."] * 100)
    assert len(gemini.calls) == 1
    assert len({job["id"] for job in jobs}) == 100
    assert {(job["status"], job["summary"]) for job in jobs} == {("done", "The one summary.")}
    assert sorted(job["cached"] for job in jobs) == [False] + [True] * 99
    stats = await (await service.client.get("/stats")).json()
    assert stats["usage"]["cached_jobs"] == 99
    assert stats["usage"]["prompt_tokens"] == gemini.calls[0].prompt_tokens  # counted once


async def test_usage_and_cost_are_in_the_record_the_event_and_the_totals(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    service = await start_workers(
        start_service, settings, gemini, workers=1, gemini_price_input_per_m=0.30, gemini_price_output_per_m=2.50
    )
    jobs = await submit_all(service, ["A text about costs.", "Another text about costs."])
    expected = 0.0
    for job, call in zip(
        sorted(jobs, key=lambda j: str(j["summary"])), sorted(gemini.calls, key=lambda c: c.prompt), strict=False
    ):
        output = answer_tokens(default_summary(call.prompt))
        assert (job["prompt_tokens"], job["output_tokens"]) == (call.prompt_tokens, output)
        cost = (call.prompt_tokens * 0.30 + output * 2.50) / 1e6
        assert job["cost_usd"] == pytest.approx(cost)
        expected += cost
    usage = (await (await service.client.get("/stats")).json())["usage"]
    assert usage["cost_usd"] == pytest.approx(expected)
    assert usage["prompt_tokens"] == sum(c.prompt_tokens for c in gemini.calls)
