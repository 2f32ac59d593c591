"""The model layer's own Redis steps (the result cache, the shared quota): Redis away fails the
attempt as a passing error, which the worker retries, never as a crashed job."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from app.model.cache import ResultCache
from app.model.layer import ModelLayer
from app.model.limiter import RateLimiter
from app.model.summarizers.base import SummarizerError, Summary, no_emit
from app.model.summarizers.testing import NoopSummarizer
from app.options import NO_OPTIONS
from app.queue.contract import Keys
from tests.redis_server import free_port


class CountingModel(NoopSummarizer):
    """A model worth caching and rate limiting, that counts its calls."""

    name = "counting"
    cache_id = "counting:v1"
    rate_limited_model = "counting"

    def __init__(self) -> None:
        self.calls = 0

    async def summarize(self, text: str, options: object, emit: object) -> Summary:  # type: ignore[override]
        self.calls += 1
        return Summary(text="s", model="counting")


@pytest.mark.parametrize("step", ["cache", "limiter"])
async def test_redis_away_during_a_model_layer_step_is_a_transient_error(step: str) -> None:
    redis = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5)  # nothing listens there
    keys, model = Keys("q", "r"), CountingModel()
    cache = ResultCache(redis, keys, ttl_s=60, lease_s=10) if step == "cache" else None
    limiter = RateLimiter(redis, keys, "counting", rpm=60) if step == "limiter" else None
    layer = ModelLayer(model, limiter, cache)
    with pytest.raises(SummarizerError) as caught:
        await layer.summarize("a text", NO_OPTIONS, no_emit)
    assert caught.value.transient
    assert "redis unreachable" in str(caught.value)
    assert model.calls == 0  # no model call was made without its turn or its cache check
    await redis.aclose()
