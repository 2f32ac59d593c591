"""A full Redis: maxmemory with maxmemory-policy noeviction (as compose.yaml runs it: a queue must
never have keys evicted). Redis then refuses every command that may grow memory with
"OOM command not allowed when used memory > 'maxmemory'" (OutOfMemoryError, a ResponseError);
a script is refused at its first such write, so it writes nothing. The API answers 503
/problems/redis-full with Retry-After, and the worker backs off and retries its writes (as
through an outage, logging once) until memory is freed, so no job is lost, buried or run twice.

Each test has its own redis-server with a tiny maxmemory, filled with filler keys; deleting
them is what frees memory. (Scripts whose first write frees memory, complete, fail, retry, bury
and requeue, which start with LREM, run even on a full Redis: those endings never wait.)"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import orjson
import pytest
import redis.asyncio as aioredis
from redis.exceptions import OutOfMemoryError

from app.config import Settings
from app.connection.factory import RedisFactory
from app.model.summarizers.testing import NoopSummarizer
from app.queue.contract import Keys
from app.queue.store import Queue
from app.service import build_worker
from app.worker.outage import Outage
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.helpers import drain_events, eventually
from tests.redis_server import RedisServer

MAXMEMORY = 8 * 1024 * 1024
FILLER = "filler"
FULL_LOG = "redis full (maxmemory): writes refused; retrying with backoff"
BACK_LOG = "redis takes writes again"


@pytest.fixture
def full_server(make_redis_server: Callable[..., RedisServer]) -> RedisServer:
    """Set up before the service of a test that asks for it first, so torn down after it."""
    return make_redis_server(extra=("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", "noeviction"))


@pytest.fixture
async def admin(full_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(full_server.url)
    yield client
    await client.aclose()


async def used(redis: aioredis.Redis) -> int:
    """The memory maxmemory is checked against (what replication and AOF buffers hold is not counted)."""
    info = await redis.info("memory")
    return int(info["used_memory"]) - int(info.get("mem_not_counted_for_evict", 0))


async def fill(redis: aioredis.Redis) -> int:
    """Filler keys until Redis refuses one for memory: big ones, then small ones. Returns how many."""
    n = 0
    for size in (256_000, 4_000):
        while True:
            try:
                await redis.set(f"{FILLER}:{n}", b"x" * size)
            except OutOfMemoryError:
                break
            n += 1
    return n


async def fill_to_within(redis: aioredis.Redis, margin: int) -> None:
    """Filler keys until Redis is within `margin` bytes of maxmemory, never over it: every
    write still lands, and the next one that is bigger than the margin fills it."""
    n = 0
    while (room := MAXMEMORY - await used(redis)) > margin:
        await redis.set(f"{FILLER}:{n}", b"x" * min(room // 2, 256_000))  # allocator rounding stays under 1/4
        n += 1
    assert room > 0, "over maxmemory already"


async def free(redis: aioredis.Redis) -> None:
    """Delete the filler keys (DEL needs no memory: it runs on a full Redis)."""
    keys = [key async for key in redis.scan_iter(f"{FILLER}:*", count=1000)]
    await redis.delete(*keys)


async def refused_for_memory(redis: aioredis.Redis) -> int:
    """How many commands Redis has refused with OOM since it started."""
    stats = await redis.info("errorstats")
    return int(stats.get("errorstat_OOM", {}).get("count", 0))


def logged(caplog: pytest.LogCaptureFixture, message: str) -> int:
    return sum(1 for record in caplog.records if record.getMessage() == message)


async def test_a_full_redis_answers_503_redis_full_and_writes_nothing(
    full_server: RedisServer, start_service: StartService, settings: Settings, admin: aioredis.Redis
) -> None:
    service = await start_service(with_(settings, redis_url=full_server.url), worker=False)
    keys = service.keys
    assert await fill(admin) > 0
    size = await admin.dbsize()

    for headers in ({}, {"Idempotency-Key": "full-1"}):
        response = await service.client.post("/process", json={"text": "No room for me."}, headers=headers)
        assert (response.status, response.content_type) == (503, "application/problem+json")
        problem = await response.json()
        assert (problem["type"], problem["status"], problem["instance"]) == ("/problems/redis-full", 503, "/process")
        assert "full" in problem["detail"]
        assert int(response.headers["Retry-After"]) > 0

    assert await admin.dbsize() == size, "nothing written: no record, no message, no key, no count"
    assert await admin.llen(keys.queue) == 0
    assert [key async for key in admin.scan_iter(keys.job("*"))] == []

    await free(admin)  # the API needs no restart
    response = await service.client.post("/process", json={"text": "Room again."})
    assert response.status == 202, await response.text()


async def test_a_job_whose_start_meets_a_full_redis_waits_for_memory_and_runs_once(
    full_server: RedisServer,
    start_service: StartService,
    settings: Settings,
    admin: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker takes the job (its BLMOVE was waiting before Redis filled) and meets a full
    Redis when it marks it running: it retries with backoff, logging once, and runs the job
    once memory is freed. Before, the OOM error made it bury the job on the dead list."""
    caplog.set_level(logging.INFO)
    # One job at a time, so the worker does nothing else while it retries; a heartbeat that does
    # not come due during the test; and a long BLMOVE, so the job surely reaches a blocked one.
    monkeypatch.setattr("app.worker.runner.BLOCK_S", 6.0)
    settings = with_(settings, redis_url=full_server.url, worker_concurrency=1, heartbeat_s=30.0)
    service = await start_service(settings)
    keys = service.keys
    results = admin.pubsub()
    await results.subscribe(keys.channel)

    async def blocked() -> dict[str, int]:  # the connection in a BLMOVE -> seconds it has waited
        clients = await admin.client_list()
        return {c["id"]: int(c["idle"]) for c in clients if c["cmd"] == "blmove" and "b" in c["flags"]}

    async def freshly_blocked() -> bool:  # the worker's BLMOVE began less than a second ago
        return 0 in (await blocked()).values()

    await eventually(freshly_blocked, what="the worker waiting in a fresh BLMOVE")
    [(connection, _)] = [(c, idle) for c, idle in (await blocked()).items() if idle == 0]
    since = time.monotonic()
    await fill_to_within(admin, margin=16_000)
    # The same BLMOVE, still waiting: on the same connection, waiting at least as long as the fill
    # took (a BLMOVE sent again would have waited less). Timed this way, a slow fill on a busy
    # machine is no failure.
    waited = (await blocked()).get(connection)
    assert waited is not None and waited >= int(time.monotonic() - since) - 1, "the BLMOVE that waited with room"
    # A producer's MULTI (the README's contract: the record, then the push) that fills Redis on
    # its way. Redis checks memory before the transaction, with room left (the bytes a command
    # brings count, so a big value could not be what fills it), and runs all of it: SETRANGE makes
    # 200 KB out of a few bytes. The BLMOVE is served after the transaction: the worker holds the
    # job, and marking it running (start.lua, whose first write is HSET) meets a full Redis.
    job_id, now = "full-at-start", time.time()
    message = orjson.dumps({"id": job_id, "text": "Taken while Redis had room.", "enqueued_at": now})
    async with admin.pipeline(transaction=True) as pipe:
        pipe.hset(keys.job(job_id), mapping={"status": "queued", "attempts": 0, "enqueued_at": now})
        pipe.lpush(keys.queue, message)
        pipe.setrange(f"{FILLER}:big", 200_000, "x")
        await pipe.execute()
    with pytest.raises(OutOfMemoryError):
        await admin.set("probe", "x")

    async def taken() -> bool:
        return await admin.llen(keys.queue) == 0

    await eventually(taken, what="the worker took the job")
    refused = await refused_for_memory(admin)

    async def retried() -> bool:  # the worker's start was refused at least three more times
        return await refused_for_memory(admin) >= refused + 3

    await eventually(retried, what="the worker retrying its write on a full Redis")
    assert await admin.hget(keys.job(job_id), "status") == b"queued", "not started while Redis is full"
    assert logged(caplog, FULL_LOG) == 1, "one line per episode, not one per attempt"

    await free(admin)

    async def done() -> bool:
        return await admin.hget(keys.job(job_id), "status") == b"done"

    await eventually(done, what="the job done once memory was freed")
    record = await admin.hgetall(keys.job(job_id))
    assert record[b"attempts"] == b"1", record
    assert await admin.llen(keys.dead) == 0, "nothing buried"
    assert await admin.hget(keys.totals, "done") == b"1"
    events = [event for event in await drain_events(results, 0.5) if job_id.encode() in event]
    assert len(events) == 1, events
    finished = [r for r in caplog.records if r.getMessage() == "job done" and getattr(r, "job_id", None) == job_id]
    assert len(finished) == 1
    assert logged(caplog, FULL_LOG) == 1 and logged(caplog, BACK_LOG) == 1
    await results.aclose()


async def test_a_worker_started_on_a_full_redis_registers_once_memory_is_freed(
    full_server: RedisServer,
    start_service: StartService,
    settings: Settings,
    admin: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its first heartbeat is refused for memory: it retries instead of dying at start."""
    caplog.set_level(logging.INFO)
    settings = with_(settings, redis_url=full_server.url)
    service = await start_service(settings, worker=False)
    response = await service.client.post("/process", json={"text": "Queued before Redis filled."})
    job_id = (await response.json())["id"]
    await fill(admin)
    refused = await refused_for_memory(admin)

    queue = Queue.from_settings(RedisFactory(settings).client(), settings)
    worker = build_worker(settings, queue, NoopSummarizer())
    running = asyncio.create_task(worker.run())
    try:

        async def retried() -> bool:
            return await refused_for_memory(admin) >= refused + 3

        await eventually(retried, what="the worker retrying its registration on a full Redis")
        assert not running.done(), "the worker is alive, waiting for memory"
        assert logged(caplog, FULL_LOG) == 1
        await free(admin)

        async def done() -> bool:
            return await admin.hget(Keys(settings.queue_name, settings.result_channel).job(job_id), "status") == b"done"

        await eventually(done, what="the job done by the worker once it registered")
    finally:
        worker.stop()
        await asyncio.wait_for(running, 30)
        await queue.redis.aclose()


async def test_an_outage_logs_once_per_kind_of_episode(caplog: pytest.LogCaptureFixture) -> None:
    """Unreachable, then full for two attempts, then writes land: a line for each kind and one at the end."""
    caplog.set_level(logging.INFO, logger="app.worker.outage")
    outage = Outage("test")
    for exc in (ConnectionError("away"), OutOfMemoryError("full"), OutOfMemoryError("full")):
        await outage.hit(exc)
    outage.clear()
    assert [r.getMessage() for r in caplog.records] == ["redis unreachable; retrying with backoff", FULL_LOG, BACK_LOG]
