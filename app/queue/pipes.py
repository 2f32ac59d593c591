"""Pipelines that always give their connection back."""

from __future__ import annotations

import redis.asyncio as aioredis


async def execute(pipe: aioredis.client.Pipeline, *, raise_on_error: bool = True) -> list[object]:
    """Run a pipeline and always give its connection back: a pipeline that failed
    (Redis down) otherwise keeps its connection until garbage collection. With
    `raise_on_error` False a command's error is its reply, and the others' stand."""
    try:
        return await pipe.execute(raise_on_error=raise_on_error)
    finally:
        await pipe.reset()
