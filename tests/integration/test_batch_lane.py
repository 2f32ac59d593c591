"""The batch lane (app/batch/lane.py) through the real google-genai SDK against the fake server's
Batch API: batch jobs become batch calls at the batch price, each ends once, whatever the batch
does (a request's error, an expired batch, every job cancelled), and the interactive lane runs on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from app.queue.contract import DEFAULT_TENANT, Keys, Mode
from app.queue.message import new_message
from app.queue.producer import ONE_DAY_S, utc_day
from app.queue.store import Queue
from app.service import build_worker
from app.worker.runner import Worker
from tests.conftest import with_
from tests.fakes.gemini_batches import BatchPlan
from tests.fakes.gemini_server import Answer, FakeGemini, answer_tokens
from tests.helpers import eventually
from tests.redis_server import RedisServer

MODEL = "gemini-batchable"
PRICE_IN, PRICE_OUT = 1.0, 10.0  # USD per million tokens, interactive

StartWorker = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini(default=Answer(text="A summary of it.", model_version=None)) as server:
        yield server


@pytest.fixture
async def queue(redis_server: RedisServer, keys: Keys) -> AsyncIterator[Queue]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield Queue(client, keys, result_ttl_s=60)
    await client.aclose()


@pytest.fixture
async def start_worker(settings: Settings, queue: Queue, gemini: FakeGemini) -> AsyncIterator[StartWorker]:
    """Workers with the batch lane, polling fast; each stopped at the end."""
    running: list[tuple[Worker, asyncio.Task[None], GeminiSummarizer]] = []

    async def start(**changes: object) -> Worker:
        fast = {
            "batch_max_jobs": 500, "batch_max_wait_s": 0.2, "batch_poll_min_s": 0.05, "batch_poll_max_s": 0.2,
            "max_attempts": 2, "retry_base_s": 0.01, "retry_max_s": 0.02,
            "gemini_prices": ((MODEL, PRICE_IN, PRICE_OUT),),
        }  # fmt: skip
        configured = with_(settings, **fast | changes)
        summarizer = GeminiSummarizer("k", MODEL, gemini.base_url, 10)
        worker = build_worker(configured, queue, summarizer)
        running.append((worker, asyncio.create_task(worker.run()), summarizer))
        return worker

    yield start
    for worker, task, summarizer in running:
        worker.stop()
        await task
        await summarizer.aclose()


async def submit(queue: Queue, n: int, mode: Mode = Mode.BATCH, prefix: str = "Text") -> list[str]:
    ids = []
    for i in range(n):
        message = new_message(f"{prefix} {i}. It has a sentence or two to summarize.", mode=mode)
        await queue.producer.enqueue(message)
        ids.append(message.id)
    return ids


async def ended(queue: Queue, ids: list[str], timeout_s: float = 20.0) -> list[dict[str, object]]:
    async def all_ended() -> bool:
        records = [await queue.reads.get_job(job_id) for job_id in ids]
        return all(r is not None and r["status"] in ("done", "failed") for r in records)

    await eventually(all_ended, timeout_s=timeout_s, what=f"{len(ids)} jobs ended")
    return [r for r in [await queue.reads.get_job(job_id) for job_id in ids] if r is not None]


def interactive_cost(record: dict[str, object]) -> float:
    return (int(record["prompt_tokens"]) * PRICE_IN + int(record["output_tokens"]) * PRICE_OUT) / 1e6  # type: ignore[call-overload]


async def test_500_batch_jobs_are_one_batch_call_at_half_the_price(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    ids = await submit(queue, 500)
    await start_worker(batch_max_wait_s=60.0)  # the count makes the batch, not the wait
    records = await ended(queue, ids, timeout_s=60)
    assert [r["status"] for r in records] == ["done"] * 500
    assert len(gemini.batches.created) == 1 and not gemini.calls, "one batch call, no interactive call"
    [batch] = gemini.batches.created.values()
    assert len(batch.requests) == 500 and batch.display_name, "the batch is named by our own id"
    assert {r["mode"] for r in records} == {"batch"} and {r["batch"] for r in records} == {batch.name}
    assert records[0]["summary"] == "A summary of it."
    assert records[0]["output_tokens"] == answer_tokens("A summary of it.")
    for record in records:
        assert record["cost_usd"] == pytest.approx(interactive_cost(record) / 2)
    assert await queue.redis.zcard(queue.keys.batches) == 0, "a batch whose jobs all ended is forgotten"


async def test_a_requests_error_fails_its_job_alone(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.batches.plan(BatchPlan(failing=frozenset({1})))
    ids = await submit(queue, 3)
    await start_worker()
    records = await ended(queue, ids)
    assert [r["status"] for r in records] == ["done", "failed", "done"]
    assert "request 1 is invalid" in str(records[1]["error"])


@pytest.mark.parametrize(("on_expire", "status"), [("interactive", "done"), ("fail", "failed")])
async def test_an_expired_batch_sends_its_jobs_where_batch_on_expire_says(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini, on_expire: str, status: str
) -> None:
    gemini.batches.plan(BatchPlan(state="BATCH_STATE_EXPIRED"))
    ids = await submit(queue, 3)
    await start_worker(batch_on_expire=on_expire)
    records = await ended(queue, ids)
    assert [r["status"] for r in records] == [status] * 3
    if on_expire == "interactive":
        assert len(gemini.calls) == 3 and "mode" not in records[0], "each ran as an interactive call"
    else:
        assert not gemini.calls and "BATCH_STATE_EXPIRED" not in str(records[0]["error"])
        assert "ended expired" in str(records[0]["error"])


async def test_a_batch_whose_jobs_are_all_cancelled_is_cancelled(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.batches.plan(BatchPlan(after_s=3600))
    ids = await submit(queue, 3)
    await start_worker()

    async def submitted() -> bool:
        statuses = [(await queue.reads.get_job(job_id) or {}).get("status") for job_id in ids]
        return bool(gemini.batches.created) and statuses == ["running"] * len(ids)

    await eventually(submitted, what="the batch submitted")
    for job_id in ids:
        record = await queue.reads.get_job(job_id)
        assert record is not None
        await queue.producer.cancel(job_id, record)
    [batch] = gemini.batches.created.values()
    await eventually(lambda: batch.cancelled, what="the remote batch cancelled")

    async def forgotten() -> bool:
        return await queue.redis.zcard(queue.keys.batches) == 0

    await eventually(forgotten, what="the batch forgotten")
    assert [(await queue.reads.get_job(job_id) or {}).get("status") for job_id in ids] == ["cancelled"] * 3


async def test_the_cache_answers_before_a_job_joins_a_batch(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    await start_worker()
    [first] = await submit(queue, 1, Mode.INTERACTIVE, prefix="Same")
    await ended(queue, [first])
    [second] = await submit(queue, 1, Mode.BATCH, prefix="Same")
    [record] = await ended(queue, [second])
    assert record["status"] == "done" and record["cached"] is True
    assert not gemini.batches.created and len(gemini.calls) == 1


async def test_interactive_jobs_run_while_a_batch_is_pending(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.batches.plan(BatchPlan(after_s=3600))
    batch_ids = await submit(queue, 50)
    await start_worker()
    await eventually(lambda: bool(gemini.batches.created), what="the batch submitted")
    interactive = await submit(queue, 20, Mode.INTERACTIVE, prefix="Now")
    records = await ended(queue, interactive, timeout_s=10)
    assert [r["status"] for r in records] == ["done"] * 20
    assert {(await queue.reads.get_job(job_id) or {}).get("status") for job_id in batch_ids} == {"running"}
    stats = await queue.reads.stats()
    assert stats["batch"] == {"waiting": 0, "in_flight": 1, "oldest_batch_age_s": pytest.approx(0, abs=10)}


async def test_a_batch_created_by_a_collector_that_died_is_found_not_made_twice(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    """The collector claimed the jobs, recorded the batch and asked the API for it, then died
    before recording the name: the next poller finds the batch by its display name."""
    ids = await submit(queue, 4)
    lone = await start_worker(batch_max_wait_s=3600.0, job_timeout_s=0.5)  # parks them, never collects
    await eventually(lambda: _parked(queue, 4), what="4 jobs parked")
    lone.stop()
    [group] = [g.decode() for g in await queue.redis.zrange(queue.keys.batch_groups, 0, -1)]
    assert await queue.batches.claim(group, "died-here", MODEL, 500, 10**6, due_s=0.5) == 4
    summarizer = GeminiSummarizer("k", MODEL, gemini.base_url, 10)
    from app.model.batches import BatchRequest, GeminiBatches

    requests = [BatchRequest(job_id, "any", new_message("x").options) for job_id in ids]
    await GeminiBatches(summarizer).create(requests, display_name="died-here")
    await summarizer.aclose()
    await start_worker(job_timeout_s=0.5)
    records = await ended(queue, ids)
    assert [r["status"] for r in records] == ["done"] * 4
    assert len(gemini.batches.created) == 1, "found by its display name, not created again"


async def _parked(queue: Queue, n: int) -> bool:
    groups = await queue.redis.zrange(queue.keys.batch_groups, 0, -1)
    return sum([await queue.redis.llen(queue.keys.batch_waiting(g.decode())) for g in groups]) == n


@pytest.mark.parametrize(("wait", "status"), [(True, "queued"), (False, "failed")])
async def test_a_batch_job_over_its_budget_fails_or_waits_for_the_next_day(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini, wait: bool, status: str
) -> None:
    message = new_message("Over budget. It may wait.", mode=Mode.BATCH, budget_wait=wait)
    await queue.producer.enqueue(message)
    now = time.time()
    await queue.redis.hset(queue.keys.tenant(DEFAULT_TENANT), "budget_tokens", 100)
    await queue.redis.set(queue.keys.spent(DEFAULT_TENANT, utc_day(int(now // ONE_DAY_S))), 150)
    await start_worker()

    async def settled() -> bool:
        record = await queue.reads.get_job(message.id) or {}
        return record.get("status") == status and str(record.get("error", "")).startswith("budget-exhausted")

    await eventually(settled, what=f"the job {status}")
    assert not gemini.batches.created and not gemini.calls
    if wait:
        record = await queue.reads.get_job(message.id) or {}
        tomorrow = (now // ONE_DAY_S + 1) * ONE_DAY_S
        assert tomorrow <= float(record["retry_at"]) <= tomorrow + 60  # type: ignore[arg-type]
        assert await queue.redis.zcard(queue.keys.delayed) == 1


async def test_a_batch_the_api_no_longer_knows_sends_its_jobs_to_run_interactively(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    gemini.batches.plan(BatchPlan(after_s=3600))
    ids = await submit(queue, 3)
    await start_worker()
    await eventually(lambda: bool(gemini.batches.created), what="the batch submitted")
    gemini.batches.created.clear()  # deleted at the API: a poll now answers 404
    records = await ended(queue, ids)
    assert [r["status"] for r in records] == ["done"] * 3 and len(gemini.calls) == 3
    assert await queue.redis.zcard(queue.keys.batches) == 0


async def test_a_job_that_cannot_start_goes_to_the_dead_list_and_its_batch_goes_on(
    start_worker: StartWorker, queue: Queue, gemini: FakeGemini
) -> None:
    """A record someone broke by hand (`attempts` not a number) fails start.lua for the whole batch:
    the jobs are started one by one, and only that one is buried."""
    ids = await submit(queue, 3)
    await queue.redis.hset(queue.keys.job(ids[1]), "attempts", "many")
    await start_worker()
    records = await ended(queue, [ids[0], ids[2]])
    assert [r["status"] for r in records] == ["done", "done"] and len(gemini.batches.created) == 1
    [entry] = [orjson.loads(raw) for raw in await queue.redis.lrange(queue.keys.dead, 0, -1)]
    assert entry["id"] == ids[1] and "could not be started" in entry["reason"]
