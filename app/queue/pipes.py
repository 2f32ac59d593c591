"""Pipelines that always give their connection back, and load the scripts they meet missing."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from app.queue.lua import SOURCES


async def execute(pipe: aioredis.client.Pipeline, *, raise_on_error: bool = True) -> list[object]:
    """Run a pipeline and always give its connection back: a pipeline that failed
    (Redis down) otherwise keeps its connection until garbage collection. With
    `raise_on_error` False a command's error is its reply, and the others' stand.
    An EVALSHA that Redis answered NOSCRIPT (its script cache is empty after a restart)
    did nothing: its script is loaded and it runs again, the others are not repeated."""
    stack = list(pipe.command_stack)
    try:
        replies = await pipe.execute(raise_on_error=False)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            replies = await _run_again(pipe, stack, replies, missing)
    finally:
        await pipe.reset()
    if raise_on_error:
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
    return replies


async def _run_again(
    pipe: aioredis.client.Pipeline,
    stack: list[tuple[tuple[object, ...], dict[str, object]]],
    replies: list[object],
    missing: list[int],
) -> list[object]:
    shas = list(dict.fromkeys(str(stack[i][0][1]) for i in missing))
    for sha in shas:
        pipe.script_load(SOURCES[sha])
    for i in missing:
        args, options = stack[i]
        pipe.execute_command(*args, **options)
    again = (await pipe.execute(raise_on_error=False))[len(shas) :]
    replies = list(replies)
    for i, reply in zip(missing, again, strict=True):
        replies[i] = reply
    return replies
