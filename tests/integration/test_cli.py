"""`python -m app dead list|requeue|purge` as an operator runs it: a subprocess against a real Redis."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.model.summarizers.testing import NoopSummarizer
from app.queue.contract import Keys
from app.queue.message import new_message
from app.queue.store import Queue
from app.service import build_worker
from app.worker.runner import Worker
from tests.helpers import TIMING, take
from tests.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
WORKER = "w1"


@dataclass
class Run:
    code: int
    out: str
    err: str


Cli = Callable[..., Awaitable[Run]]


async def run_app(url: str, queue_name: str, *args: str) -> Run:
    env = {**os.environ, "REDIS_URL": url, "QUEUE_NAME": queue_name}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


@pytest.fixture
def queue(redis: aioredis.Redis, keys: Keys) -> Queue:
    return Queue(redis, keys, result_ttl_s=60)


@pytest.fixture
def cli(redis_server: RedisServer, keys: Keys) -> Cli:
    async def run(*args: str) -> Run:
        return await run_app(redis_server.url, keys.queue, *args)

    return run


async def bury(queue: Queue, count: int) -> list[tuple[str, str]]:
    """Fail `count` fresh jobs; returns (id, reason) of each, oldest first."""
    for i in range(count):
        await queue.producer.enqueue(new_message(f"text {i}"))
    jobs = await take(queue, WORKER, count)
    failed = []
    for i, job in enumerate(jobs):
        reason = f"model said no {i}"
        assert await queue.transitions.fail(WORKER, job, reason, TIMING)
        failed.append((job.message.id, reason))
    return failed


async def test_dead_list_prints_id_and_reason_newest_first(queue: Queue, cli: Cli) -> None:
    failed = await bury(queue, 3)
    run = await cli("dead", "list")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [f"{job_id}\t{reason}" for job_id, reason in reversed(failed)]
    assert "3 dead message(s) shown" in run.err


async def test_dead_list_json_prints_one_object_per_line(queue: Queue, cli: Cli) -> None:
    failed = await bury(queue, 2)
    run = await cli("dead", "list", "--json")
    assert run.code == 0, run.err
    entries = [orjson.loads(line) for line in run.out.splitlines()]
    assert [(e["id"], e["reason"]) for e in entries] == list(reversed(failed))
    assert all(orjson.loads(e["message"])["id"] == e["id"] and e["failed_at"] > 0 for e in entries)


async def test_dead_requeue_by_id_puts_the_job_back(queue: Queue, cli: Cli) -> None:
    (chosen, _), (other, _) = await bury(queue, 2)
    run = await cli("dead", "requeue", chosen)
    assert run.code == 0, run.err
    assert "requeued 1" in run.out
    assert [e["id"] for e in await queue.dead.newest()] == [other]
    [queued] = await queue.redis.lrange(queue.keys.queue, 0, -1)
    assert orjson.loads(queued)["id"] == chosen
    record = await queue.reads.get_job(chosen)
    assert record is not None
    assert (record["status"], record["attempts"]) == ("queued", 0)


async def test_dead_purge_all_empties_the_list(queue: Queue, cli: Cli) -> None:
    await bury(queue, 3)
    run = await cli("dead", "purge", "--all")
    assert run.code == 0, run.err
    assert "purged 3" in run.out
    assert await queue.dead.newest() == []


@pytest.mark.parametrize("action", ["purge", "requeue"])
async def test_an_unknown_id_exits_1_and_changes_nothing(queue: Queue, cli: Cli, action: str) -> None:
    await bury(queue, 1)
    run = await cli("dead", action, "unknown-id")
    assert run.code == 1, run.err
    assert len(await queue.dead.newest()) == 1
    assert await queue.redis.llen(queue.keys.queue) == 0


async def test_dead_requeue_all_skips_a_poison_entry_saying_why(queue: Queue, cli: Cli) -> None:
    [(job_id, _)] = await bury(queue, 1)
    await queue.redis.lpush(queue.keys.queue, b"{not JSON")
    assert await take(queue, WORKER, 1) == []
    run = await cli("dead", "requeue", "--all")
    assert run.code == 0, run.err
    assert "requeued 1" in run.out
    assert "skipped" in run.err and "not JSON" in run.err
    [poison] = await queue.dead.newest()
    assert poison["id"] is None
    assert orjson.loads((await queue.redis.lrange(queue.keys.queue, 0, -1))[0])["id"] == job_id


async def test_unreachable_redis_exits_3_naming_the_url(keys: Keys) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    run = await run_app(url, keys.queue, "dead", "list")
    assert run.code == 3
    [line] = [line for line in run.err.splitlines() if line.startswith("error:")]
    assert url in line


async def test_a_limit_below_one_is_refused_with_a_usage_error(cli: Cli) -> None:
    result = await cli("dead", "list", "--limit", "0")
    assert result.code == 2
    assert "--limit" in result.err and "'0' is not a positive integer" in result.err


@pytest.fixture
async def worker(redis_server: RedisServer, keys: Keys) -> AsyncIterator[Worker]:
    """A worker in the test's loop, on the same queue the CLI talks to."""
    settings = Settings(redis_url=redis_server.url, queue_name=keys.queue, result_channel=keys.channel)
    queue = Queue(aioredis.Redis.from_url(redis_server.url), keys, result_ttl_s=60)
    runner = build_worker(settings, queue, NoopSummarizer())
    task = asyncio.create_task(runner.run())
    yield runner
    runner.stop()
    await task
    await queue.redis.aclose()


async def test_submit_and_wait_prints_the_summary_and_exits_0(worker: Worker, cli: Cli) -> None:
    run = await cli("submit", "A text from the shell. It has two sentences.", "--wait", "10")
    assert run.code == 0, run.err
    first, summary = run.out.splitlines()[:2]
    assert "\tdone\t" in first
    assert summary == "A text from the shell. It has two sentences."[:80]


async def test_submit_json_then_status_json_for_scripts(worker: Worker, cli: Cli) -> None:
    submitted = await cli("submit", "Scripted.", "--max-words", "20", "--json")
    assert submitted.code == 0, submitted.err
    job_id = orjson.loads(submitted.out)["id"]
    status = await cli("status", job_id, "--wait", "10", "--json")
    assert status.code == 0, status.err
    record = orjson.loads(status.out)
    assert (record["id"], record["status"]) == (job_id, "done")


async def test_exit_codes_say_what_went_wrong(cli: Cli) -> None:
    assert (await cli("status", "no-such-job")).code == 4
    assert (await cli("submit", "   ")).code == 2
    assert (await cli("submit", "text", "--max-words", "3")).code == 2
    waited = await cli("submit", "nobody works this queue", "--wait", "0.5")  # no worker running
    assert waited.code == 5
    assert "\tqueued" in waited.out


async def test_an_expired_job_is_not_a_success(cli: Cli, queue: Queue) -> None:
    await queue.producer.enqueue(new_message("too late", expires_in=0.01))
    await asyncio.sleep(0.05)
    assert await take(queue, WORKER, 1) == [], "ended expired at its start"
    [record] = await queue.reads.recent_jobs(1)
    shown = await cli("status", str(record["id"]))
    assert (shown.code, "\texpired" in shown.out) == (1, True), shown.out


async def test_stats_and_workers_show_the_queue(worker: Worker, cli: Cli, queue: Queue) -> None:
    await queue.producer.enqueue(new_message("counted"))
    stats = await cli("stats", "--json")
    assert stats.code == 0, stats.err
    numbers = orjson.loads(stats.out)
    assert numbers["totals"]["enqueued"] == 1
    workers = await cli("workers")
    assert workers.code == 0
    assert worker.id in workers.out and "alive" in workers.out


async def test_redis_unreachable_is_exit_3_with_the_way_out(keys: Keys) -> None:
    run = await run_app(f"redis://127.0.0.1:{free_port()}/0", keys.queue, "stats")
    assert run.code == 3
    assert "REDIS_URL" in run.err


async def test_redis_unreachable_does_not_print_the_password_of_redis_url(keys: Keys) -> None:
    run = await run_app(f"redis://:secretpw@127.0.0.1:{free_port()}/0", keys.queue, "stats")
    assert run.code == 3
    assert "secretpw" not in run.err + run.out
    assert "redis://:***@127.0.0.1:" in run.err


async def test_a_job_submitted_high_is_counted_so_and_cancel_calls_it_back_once(cli: Cli) -> None:
    submitted = await cli("submit", "Urgent, then not.", "--priority", "high", "--json")
    assert submitted.code == 0, submitted.err
    job_id = orjson.loads(submitted.out)["id"]
    stats = orjson.loads((await cli("stats", "--json")).out)
    assert stats["queued_by_priority"] == {"high": 1, "normal": 0, "low": 0}
    assert "by priority" in (await cli("stats")).out
    cancelled = await cli("cancel", job_id, "--json")
    assert cancelled.code == 0, cancelled.err
    assert orjson.loads(cancelled.out)["status"] == "cancelled"
    again = await cli("cancel", job_id)
    assert again.code == 1 and "had already ended cancelled" in again.err
    assert (await cli("cancel", "no-such-job")).code == 4
    assert (await cli("status", job_id)).code == 1, "a cancelled job is no success"
    assert (await cli("submit", "x", "--priority", "urgent")).code == 2


async def test_a_job_submitted_for_a_batch_says_so_in_its_message(cli: Cli, queue: Queue) -> None:
    submitted = await cli("submit", "For the archive.", "--batch", "--json")
    assert submitted.code == 0, submitted.err
    [raw] = await queue.redis.lrange(queue.keys.queue, 0, -1)
    assert orjson.loads(raw)["mode"] == "batch"
