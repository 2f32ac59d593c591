"""Small waiting helpers: wait for a condition with a deadline, never sleep and hope."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis


async def drain_events(pubsub: aioredis.client.PubSub, seconds: float) -> list[bytes]:
    """Every message published on the subscription within `seconds`."""
    loop = asyncio.get_running_loop()
    deadline, events = loop.time() + seconds, []
    while (remaining := deadline - loop.time()) > 0:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
        if message is not None:
            events.append(message["data"])
    return events


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0, what: str = "condition") -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout_s} s")
        await asyncio.sleep(0.01)
