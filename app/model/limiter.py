"""A model's shared quota across every worker: GEMINI_RPM, GEMINI_TPM and 429 cool-downs, in Redis."""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis

from app.queue import lua
from app.queue.contract import Keys

log = logging.getLogger(__name__)


class RateLimiter:
    """Books each call a slot in one round trip (limit_reserve.lua), then sleeps until it.

    Tokens are booked at the estimate before the call and corrected by the usage the
    model reports after it, so a schedule built on estimates converges on the truth.
    With both limits 0 it still holds calls back during a 429 cool-down.
    """

    def __init__(self, redis: aioredis.Redis, keys: Keys, model: str, rpm: int = 0, tpm: int = 0) -> None:
        self._redis = redis
        self.model = model
        self._schedule, self._cooling = keys.limit(model), keys.cool_down(model)
        self._ms_per_request = 60_000 / rpm if rpm else 0.0
        self._ms_per_token = 60_000 / tpm if tpm else 0.0
        self._reserve = lua.register(redis, "limit_reserve")
        self._cool_down = lua.register(redis, "limit_cool_down")

    async def acquire(self, tokens: int) -> float:
        """Wait for this call's turn; returns the seconds waited."""
        waited = 0.0
        while True:
            wait_ms = int(
                await self._reserve(
                    keys=[self._schedule, self._cooling],
                    args=[self._ms_per_request, self._ms_per_token, tokens],
                )
            )
            if wait_ms <= 0:
                return waited
            await asyncio.sleep(wait_ms / 1000)
            waited += wait_ms / 1000
            # A 429 may have started a cool-down while we slept for our slot.
            cooling_ms = int(await self._redis.pttl(self._cooling))
            if cooling_ms <= 0:
                return waited

    async def cooling_s(self) -> float:
        """How long every worker still holds its calls back after a 429 (0: not cooling down)."""
        return max(0, int(await self._redis.pttl(self._cooling))) / 1000

    async def settle(self, estimated: int, used: int) -> None:
        """Correct the token schedule by what the call really used."""
        if self._ms_per_token and used != estimated:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hincrbyfloat(self._schedule, "tokens", (used - estimated) * self._ms_per_token)
                pipe.pexpire(self._schedule, 60_000, nx=True)  # if it had expired, this made it anew
                await pipe.execute()

    async def cool_down(self, seconds: float) -> None:
        """Hold every worker's next call back `seconds` (never shortening a longer cool-down)."""
        ms = max(1, round(seconds * 1000))
        if await self._cool_down(keys=[self._cooling], args=[ms]):
            extra = {"model": self.model, "cool_down_s": seconds}
            log.warning("model quota hit; every worker waits", extra=extra)
