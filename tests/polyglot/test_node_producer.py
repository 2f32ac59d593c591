"""The original design's loop, run for real: a Node.js producer (ioredis, from the npm registry)
pushes every shape a NestJS service sends onto job_queue and listens on job_result; the Python
worker runs them all, and each event reaches Node with the producer's own fields."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.model.summarizers.testing import NoopSummarizer
from app.queue.contract import Keys
from app.queue.store import Queue
from app.service import build_worker
from app.worker.runner import Worker
from tests.redis_server import RedisServer, require_binary

HERE = Path(__file__).parent


def node_modules() -> None:
    """ioredis as package-lock.json pins it (npm ci, once: CI and a fresh checkout install it here)."""
    if (HERE / "node_modules" / "ioredis").is_dir():
        return
    npm = require_binary("npm")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"npm ci in {HERE} failed (is the npm registry reachable?): {done.stderr[-2000:]}")


@pytest.fixture
async def worker(redis_server: RedisServer, keys: Keys) -> AsyncIterator[Worker]:
    settings = Settings(redis_url=redis_server.url, queue_name=keys.queue, result_channel=keys.channel)
    queue = Queue(aioredis.Redis.from_url(redis_server.url), keys, result_ttl_s=60)
    runner = build_worker(settings, queue, NoopSummarizer())  # its summary: the text's first 80 characters
    task = asyncio.create_task(runner.run())
    yield runner
    runner.stop()
    await task
    await queue.redis.aclose()


async def test_a_node_producer_gets_every_shape_it_sends_back_done_with_its_own_fields(
    worker: Worker, redis_server: RedisServer, keys: Keys
) -> None:
    node = require_binary("node")
    await asyncio.to_thread(node_modules)
    run = await asyncio.create_subprocess_exec(
        node, str(HERE / "producer.mjs"), redis_server.url, keys.queue, keys.channel,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await run.communicate()
    assert run.returncode == 0, err.decode()[-2000:]
    heard = orjson.loads(out.splitlines()[-1])
    texts, events = heard["texts"], heard["events"]
    by_summary = {event["summary"]: event for event in events}
    assert {event["status"] for event in events} == {"done"} and len(events) == 5, events
    assert set(by_summary) == {text[:80] for text in texts.values()}, "every shape ran, the text whole"
    assert by_summary[texts["ownId"][:80]]["id"] == "nest0002abc"
    assert by_summary[texts["jobId"][:80]]["meta"] == {"jobId": "nest-0001"}, "Node can match it to its job"
    assert by_summary[texts["extra"][:80]]["meta"] == {"userId": 42, "createdAt": "2026-11-29T10:00:00.000Z"}
    assert "meta" not in by_summary[texts["bare"][:80]] and "meta" not in by_summary[texts["plain"][:80]]
    record = await worker.transitions.redis.hgetall(keys.job(by_summary[texts["jobId"][:80]]["id"]))
    assert orjson.loads(record[b"meta"]) == {"jobId": "nest-0001"}, "the record keeps them too"
    assert await worker.transitions.redis.llen(keys.dead) == 0
    print(f"node {sys.platform}: {len(events)} events heard by the Node listener")
