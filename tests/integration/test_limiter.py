"""The shared quota's schedule in Redis (limit_reserve.lua, limit_cool_down.lua), on a real
server and on the embedded broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from app.model.limiter import RateLimiter
from app.queue.contract import Keys


@pytest.fixture
def model() -> str:
    return f"model-{uuid.uuid4().hex[:8]}"


async def booked_ms(redis: aioredis.Redis, keys: Keys, model: str, field: str) -> float:
    return float(await redis.hget(keys.limit(model), field))


async def test_concurrent_callers_get_distinct_slots_one_interval_apart(
    any_redis: aioredis.Redis, keys: Keys, model: str
) -> None:
    limiter = RateLimiter(any_redis, keys, model, rpm=1200)  # one call per 50 ms
    seconds, micros = await any_redis.time()
    before_ms = seconds * 1000 + micros / 1000
    waited = sorted(await asyncio.gather(*(limiter.acquire(10) for _ in range(5))))
    assert waited[0] == 0, "the first caller calls at once"
    # Five distinct slots 50 ms apart were booked: the schedule's next free moment is five intervals
    # past the first slot (which is no earlier than `before`), however late each caller arrived.
    free_after_ms = await booked_ms(any_redis, keys, model, "requests") - before_ms
    assert 250 <= free_after_ms < 250 + 1000, free_after_ms
    assert waited[-1] <= 0.2 + 0.002, "no caller waits past the fifth slot (to the ms the script rounds to)"


async def test_tokens_are_booked_at_the_estimate_and_settled_to_what_was_used(
    any_redis: aioredis.Redis, keys: Keys, model: str
) -> None:
    limiter = RateLimiter(any_redis, keys, model, tpm=60_000)  # 1 ms per token
    await limiter.acquire(500)
    booked = await booked_ms(any_redis, keys, model, "tokens")
    await limiter.settle(estimated=500, used=200)
    assert await booked_ms(any_redis, keys, model, "tokens") == pytest.approx(booked - 300)


async def test_a_cool_down_holds_calls_back_and_a_shorter_one_does_not_cut_it(
    any_redis: aioredis.Redis, keys: Keys, model: str
) -> None:
    limiter = RateLimiter(any_redis, keys, model)  # no limits: only cool-downs
    assert await limiter.acquire(1) == 0
    await limiter.cool_down(0.3)
    await limiter.cool_down(0.05)
    assert await any_redis.pttl(keys.cool_down(model)) > 200
    assert await limiter.acquire(1) >= 0.25
