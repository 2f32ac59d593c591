"""Helpers of the tests that run real `python -m app` processes (the fixtures `spawn` and
`private` are in conftest.py)."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable

import orjson
import redis.asyncio as aioredis

from app.queue.contract import Keys
from app.queue.message import new_message
from app.queue.store import Queue
from tests.helpers import drain_events, eventually
from tests.redis_server import RedisServer

Spawn = Callable[..., subprocess.Popen[bytes]]
Private = tuple[RedisServer, Queue, aioredis.client.PubSub]


def worker_env(server: RedisServer, keys: Keys, **extra: str) -> dict[str, str]:
    return {
        "ROLE": "worker",
        "REDIS_URL": server.url,
        "QUEUE_NAME": keys.queue,
        "RESULT_CHANNEL": keys.channel,
        "SUMMARIZER": "sleep",
        "HEARTBEAT_INTERVAL": "0.5",
        "LOG_LEVEL": "INFO",
        "METRICS_PORT": "0",  # several workers share this host; the probe has a test of its own
    } | extra


def gemini_worker_env(server: RedisServer, keys: Keys, gemini_url: str, **extra: str) -> dict[str, str]:
    """worker_env for workers that call the fake Gemini server through the real SDK."""
    gemini = {"SUMMARIZER": "gemini", "GEMINI_API_KEY": "test-key-not-secret", "GEMINI_BASE_URL": gemini_url}
    return worker_env(server, keys, **gemini | extra)


async def accept(queue: Queue, n: int) -> list[str]:
    ids = []
    for i in range(n):
        message = new_message(f"job {i}: some text to summarize")
        await queue.producer.enqueue(message)
        ids.append(message.id)
    return ids


async def statuses(queue: Queue, ids: list[str]) -> Counter[str]:
    records = [await queue.reads.get_job(job_id) for job_id in ids]
    return Counter(str(r["status"]) if r else "missing" for r in records)


async def all_running(queue: Queue, ids: list[str]) -> None:
    async def running() -> bool:
        return (await statuses(queue, ids))["running"] == len(ids)

    await eventually(running, what=f"all {len(ids)} jobs running")


async def assert_each_done_once(queue: Queue, ids: list[str], pubsub: aioredis.client.PubSub) -> None:
    async def all_final() -> bool:
        return (await statuses(queue, ids))["done"] == len(ids)

    await eventually(all_final, timeout_s=60, what=f"all {len(ids)} jobs done")
    events = Counter(orjson.loads(e)["id"] for e in await drain_events(pubsub, seconds=1.0))
    assert {job_id: events[job_id] for job_id in ids} == dict.fromkeys(ids, 1), "each job: exactly one event"
    assert await queue.redis.llen(queue.keys.queue) == 0
    assert await queue.redis.zcard(queue.keys.delayed) == 0
