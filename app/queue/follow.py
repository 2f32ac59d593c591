"""Waiting until a job is final: the one primitive behind ?wait=, the event stream and the CLI's --wait.

Pub/Sub only wakes: what counts is the record. So a follower registers its wake-up with
the hub first, then reads; each wake-up (or, with `recheck_s`, each quiet interval) is
followed by a fresh read, and the wake-up is cleared before that read, so an ending that
lands between a read and the wait still wakes it. No polling, and no lost ending.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

from app.queue.contract import is_final
from app.queue.hub import ResultHub
from app.queue.reads import Reads, Record

S = TypeVar("S")


async def follow(
    read: Callable[[], Awaitable[S]],
    woken: asyncio.Event,
    ended: Callable[[S], bool],
    *,
    within_s: float = math.inf,
    recheck_s: float = math.inf,
) -> AsyncGenerator[S, None]:
    """Each state `read()` gives, from the first until one that `ended` says is the last,
    or the first read once `within_s` has passed. Reads again when `woken` is set, or
    after `recheck_s` without a wake-up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        woken.clear()  # before the read: a change after it sets this again
        state = await read()
        yield state
        remaining = deadline - loop.time()
        if ended(state) or remaining <= 0:
            return
        wait_s = min(remaining, recheck_s)
        try:
            async with asyncio.timeout(None if math.isinf(wait_s) else wait_s):
                await woken.wait()
        except TimeoutError:
            pass


async def until_final(reads: Reads, hub: ResultHub, job_id: str, within_s: float) -> Record | None:
    """The job's record once it is final, or as it is after `within_s` (or when the hub
    closes: a shutdown answers at once). None for an unknown id."""
    record: Record | None = None
    async with hub.waiter(job_id) as woken:
        states = follow(
            lambda: reads.get_job(job_id),
            woken,
            lambda state: state is None or is_final(state) or hub.closing,
            within_s=within_s,
        )
        async for state in states:
            record = state  # the last one read
    return record
