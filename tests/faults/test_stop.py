"""Worker.run returns within SHUTDOWN_GRACE + the hand-back time of stop(), whatever it was
doing: connecting to a Redis that never answers, blocked waiting for work, riding out an
outage with jobs in hand, or in the middle of a batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.connection.factory import RedisFactory
from app.model.summarizers.testing import SleepSummarizer
from app.queue.message import new_message
from app.queue.store import Queue
from app.service import build_worker
from app.worker.runner import HAND_BACK_S, LOOPS_END_S, Worker
from tests.conftest import with_
from tests.helpers import eventually
from tests.redis_server import RedisServer, free_port

GRACE_S = 0.5
# The promise (the loops' time to end, the grace, the hand-back), plus a margin for a loaded machine.
BOUND_S = LOOPS_END_S + GRACE_S + HAND_BACK_S + 5


@dataclass
class Running:
    worker: Worker
    task: asyncio.Task[None]
    queue: Queue


@pytest.fixture
async def started() -> AsyncIterator[Callable[[Settings], Running]]:
    workers: list[Running] = []

    def start(settings: Settings) -> Running:
        queue = Queue.from_settings(RedisFactory(settings).client(), settings)
        worker = build_worker(settings, queue, SleepSummarizer(30))
        workers.append(Running(worker, asyncio.create_task(worker.run()), queue))
        return workers[-1]

    yield start
    for running in workers:
        running.worker.stop()
        await asyncio.wait_for(running.task, BOUND_S)
        await running.queue.redis.aclose()


async def stop_within_bound(running: Running) -> None:
    running.worker.stop()
    await asyncio.wait_for(asyncio.shield(running.task), BOUND_S)


async def test_stop_while_connecting_to_a_redis_that_never_answers(
    settings: Settings, started: Callable[[Settings], Running]
) -> None:
    running = started(with_(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0", shutdown_grace_s=GRACE_S))
    await asyncio.sleep(0.5)  # inside its first connection attempts and their backoff
    await stop_within_bound(running)


async def test_stop_while_waiting_for_work(
    settings: Settings, started: Callable[[Settings], Running], redis: aioredis.Redis
) -> None:
    running = started(with_(settings, shutdown_grace_s=GRACE_S))
    worker, queue = running.worker, running.queue

    async def registered() -> bool:
        return await redis.sismember(queue.keys.workers, worker.id) == 1

    await eventually(registered, what="the worker registered (then blocked in BLMOVE)")
    await stop_within_bound(running)
    assert await redis.sismember(queue.keys.workers, worker.id) == 0, "deregistered"


async def test_stop_mid_batch_hands_back_what_did_not_finish(
    settings: Settings, started: Callable[[Settings], Running], redis: aioredis.Redis
) -> None:
    running = started(with_(settings, shutdown_grace_s=GRACE_S, worker_concurrency=50))
    worker, queue = running.worker, running.queue
    for i in range(80):  # more than its slots: some running, some still queued
        await queue.producer.enqueue(new_message(f"text {i}"))

    async def full() -> bool:
        return worker._calls == 50

    await eventually(full, what="every slot taken")
    await stop_within_bound(running)
    assert await redis.llen(queue.keys.queue) == 80, "all handed back (the 30 s jobs outlived the grace)"
    assert await redis.llen(queue.keys.processing(worker.id)) == 0


async def test_stop_while_redis_is_gone_with_jobs_in_hand(
    settings: Settings, started: Callable[[Settings], Running], make_redis_server: Callable[..., RedisServer]
) -> None:
    server = make_redis_server(appendonly=True)
    running = started(with_(settings, redis_url=server.url, shutdown_grace_s=GRACE_S))
    worker, queue = running.worker, running.queue
    for i in range(5):
        await queue.producer.enqueue(new_message(f"text {i}"))

    async def busy() -> bool:
        return worker._calls == 5

    await eventually(busy, what="five jobs running")
    server.kill()  # its heartbeat, its writes and the hand-back all fail from now on
    await asyncio.sleep(0.5)
    await stop_within_bound(running)
    server.start()  # the jobs are still on its processing list, where recovery finds them
    client = aioredis.Redis.from_url(server.url)
    try:
        assert await client.llen(queue.keys.processing(worker.id)) == 5
    finally:
        await client.aclose()
