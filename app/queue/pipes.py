"""Pipelines that always give their connection back."""

from __future__ import annotations

import redis.asyncio as aioredis


async def execute(pipe: aioredis.client.Pipeline) -> list[object]:
    """Run a pipeline and always give its connection back: a pipeline that failed
    (Redis down) otherwise keeps its connection until garbage collection."""
    try:
        return await pipe.execute()
    finally:
        await pipe.reset()
