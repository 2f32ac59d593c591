"""GET /jobs/{id}/events: a job's summary as Server-Sent Events, piece by piece as it is written.

`progress` events carry the pieces (`{"delta", "attempt"}`, the id of each is its stream
entry's), then one `done` or `failed` event carries the job record (id `end`) and the
stream closes. A client that reconnects with Last-Event-ID gets only what came after;
one that reconnects after `end` gets 204, which tells EventSource to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Final

import orjson
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from app.appkeys import HUB, QUEUE
from app.broker import UNAVAILABLE
from app.problems import Problem
from app.protocol import FINAL_STATUSES, JOB_ID_RE
from app.queue import JobQueue
from app.results import ResultHub

Read = tuple[dict[str, object] | None, list[tuple[str, int, str]]]

END_ID: Final = "end"
_STREAM_ID_RE: Final = re.compile(r"\d{1,20}-\d{1,20}")
# How often a quiet stream checks that its client is still there (aiohttp-sse pings every 15 s).
RECHECK_S: Final = 5.0


async def job_events(request: web.Request) -> web.StreamResponse:
    job_id = request.match_info["job_id"]
    last_id = request.headers.get("Last-Event-ID", "").strip()
    if last_id == END_ID:
        return web.Response(status=204)  # it saw the end: nothing more will come
    after = last_id if _STREAM_ID_RE.fullmatch(last_id) else "-"
    queue, hub = request.app[QUEUE], request.app[HUB]
    # Registered before the first read, so a piece written after that read wakes us.
    async with hub.waiter(job_id, progress=True) as woken:
        record, pieces = await queue.job_and_progress(job_id, after) if JOB_ID_RE.fullmatch(job_id) else (None, [])
        if record is None:
            detail = f"no job with id {job_id!r} (unknown, or expired after RESULT_TTL)"
            raise Problem(404, "job-not-found", "Not Found", detail)
        async with sse_response(request, sep="\n") as stream:
            with contextlib.suppress(*UNAVAILABLE):  # Redis away: close; the client resumes from its last id
                await _relay(stream, queue, hub, woken, job_id, after, (record, pieces))
    return stream


async def _relay(
    stream: EventSourceResponse,
    queue: JobQueue,
    hub: ResultHub,
    woken: asyncio.Event,
    job_id: str,
    after: str,
    read: Read,
) -> None:
    """Send what was read, then wait for more, until the job ends, the client goes or the server stops."""
    record, pieces = read
    while stream.is_connected():
        for entry_id, attempt, text in pieces:
            data = orjson.dumps({"delta": text, "attempt": attempt}).decode()
            await stream.send(data, id=entry_id, event="progress")
            after = entry_id
        if record is None or hub.closing:
            return  # expired meanwhile, or shutting down
        if record["status"] in FINAL_STATUSES:
            await stream.send(orjson.dumps(record).decode(), id=END_ID, event=str(record["status"]))
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RECHECK_S):
                await woken.wait()
        woken.clear()  # before the read: a wake-up after it sets this again
        record, pieces = await queue.job_and_progress(job_id, after)
