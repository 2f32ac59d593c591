"""Small helpers: wait for a condition with a deadline (never sleep and hope); read Server-Sent Events;
serve a test's own HTTP endpoint (a webhook receiver, an OTLP collector)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import redis.asyncio as aioredis
from aiohttp import ClientResponse, web

from app.queue.record import Outcome, Timing
from app.queue.replies import Ended
from app.queue.store import Queue
from app.queue.transitions import Completion, RunningJob
from tests.redis_server import free_port


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` on 127.0.0.1, on a free port, for the block: its base URL. Requests still open at the
    end (a receiver that never answers) are dropped at once."""
    port = free_port()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def drain_events(pubsub: aioredis.client.PubSub, seconds: float) -> list[bytes]:
    """Every message published on the subscription within `seconds`."""
    loop = asyncio.get_running_loop()
    deadline, events = loop.time() + seconds, []
    while (remaining := deadline - loop.time()) > 0:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
        if message is not None:
            events.append(message["data"])
    return events


async def eventually(
    check: Callable[[], Awaitable[bool] | object], timeout_s: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` (a coroutine function, or a plain one whose result is taken as true or false)
    until it holds; fail naming `what` after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s

    async def holds() -> bool:
        result = check()
        return bool(await result) if inspect.isawaitable(result) else bool(result)

    while not await holds():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout_s} s")
        await asyncio.sleep(0.01)


async def until_ok(url: str, timeout_s: float = 30.0, died: Callable[[], str | None] = lambda: None) -> None:
    """Return once GET `url` answers 200 (a service coming up); fail with what `died` says as
    soon as it says something (the process exited), or after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            if (death := died()) is not None:
                raise AssertionError(death)
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not answer 200 within {timeout_s} s")


@dataclass(frozen=True, slots=True)
class SseEvent:
    id: str | None
    event: str
    data: str


async def read_events(response: ClientResponse, most: int | None = None) -> list[SseEvent]:
    """Server-Sent Events from `response` as the EventSource spec parses them, until the
    stream ends or `most` events have come."""
    events: list[SseEvent] = []
    fields: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith(":"):
            continue  # a comment: aiohttp-sse's keep-alive ping
        if line:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name == "data" and name in fields else value
            continue
        if fields:
            events.append(SseEvent(fields.get("id"), fields.get("event", "message"), fields.get("data", "")))
            fields = {}
            if most is not None and len(events) >= most:
                break
    return events


# A job's timing where the test does not care: enqueued at 0, started at 1, ended at 2.
TIMING = Timing(0.0, 1.0, 2.0)


async def take(queue: Queue, worker_id: str, most: int = 1) -> list[RunningJob]:
    """What a worker does before running jobs: reserve up to `most`, decode, start."""
    transitions = queue.transitions
    return await transitions.start(worker_id, transitions.prepare(await transitions.reserve(worker_id, most, 0)))


async def start(queue: Queue, worker_id: str, raws: list[bytes]) -> list[RunningJob]:
    """Start reserved messages as the worker does: decoded once, then started."""
    return await queue.transitions.start(worker_id, queue.transitions.prepare(raws))


async def complete(queue: Queue, worker_id: str, job: RunningJob, summary: str = "s", model: str = "m") -> bool:
    """running -> done with a plain Outcome; whether the job became done (not already final)."""
    done = await queue.transitions.complete_many(worker_id, [Completion(job, Outcome(summary, model), TIMING)])
    return done == [Ended.ENDED]
