"""GET /jobs/{id}/events: a job's summary as Server-Sent Events, piece by piece as it is written.

`progress` events carry the pieces (`{"delta", "attempt"}`, the id of each is its stream
entry's), then one `done` or `failed` event carries the job record (id `end`) and the
stream closes. A client that reconnects with Last-Event-ID gets only what came after;
one that reconnects after `end` gets 204, which tells EventSource to stop.

A finished job keeps only its record (its stream goes with its ending): a client that
comes after the end gets the whole summary as one `progress` event (id REPLAY_ID), then
the ending; one that resumes after the end gets the ending, whose record has it all.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Final

import orjson
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from app.api.problems import Problem, job_not_found
from app.api.resources import HUB, QUEUE
from app.connection.factory import UNAVAILABLE
from app.queue.contract import FINAL_STATUSES, JOB_ID_RE
from app.queue.hub import ResultHub
from app.queue.store import JobQueue

Read = tuple[dict[str, object] | None, list[tuple[str, int, str]]]

END_ID: Final = "end"
# The id of the one piece a finished job is replayed as: before any real stream entry.
REPLAY_ID: Final = "0-1"
_STREAM_ID_RE: Final = re.compile(r"([0-9]{1,20})-([0-9]{1,20})", re.ASCII)
_MAX_STREAM_PART: Final = 2**64 - 1
# How often a quiet stream checks that its client is still there (aiohttp-sse pings every 15 s).
RECHECK_S: Final = 5.0


async def job_events(request: web.Request) -> web.StreamResponse:
    job_id = request.match_info["job_id"]
    if not JOB_ID_RE.fullmatch(job_id):
        raise job_not_found(job_id)
    last_id = request.headers.get("Last-Event-ID", "").strip()
    if last_id == END_ID:
        return web.Response(status=204)  # it saw the end: nothing more will come
    after = _resume_after(last_id)
    queue, hub = request.app[QUEUE], request.app[HUB]
    # Registered before the first read, so a piece written after that read wakes us.
    async with hub.waiter(job_id, progress=True) as woken:
        record, pieces = await queue.job_and_progress(job_id, after)
        if record is None:
            raise job_not_found(job_id)
        async with sse_response(request, sep="\n") as stream:
            with contextlib.suppress(*UNAVAILABLE):  # Redis away: close; the client resumes from its last id
                await _relay(stream, queue, hub, woken, job_id, after, (record, pieces))
    return stream


def _resume_after(last_id: str) -> str:
    """Where a reconnecting client resumes: after the stream entry it names ("-": from the
    start). An id we could not have sent is the client's error, not ours: 400."""
    if not last_id:
        return "-"
    match = _STREAM_ID_RE.fullmatch(last_id)
    if match is None or any(int(part) > _MAX_STREAM_PART for part in match.groups()):
        detail = f"Last-Event-ID {last_id[:64]!r} is not an id this stream sent: omit it to start from the beginning"
        raise Problem(400, "invalid-last-event-id", "Bad Request", detail)
    return last_id


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
            if after == "-" and isinstance(summary := record.get("summary"), str):  # came after the end
                replay = orjson.dumps({"delta": summary, "attempt": record.get("attempts", 1)}).decode()
                await stream.send(replay, id=REPLAY_ID, event="progress")
            await stream.send(orjson.dumps(record).decode(), id=END_ID, event=str(record["status"]))
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RECHECK_S):
                await woken.wait()
        woken.clear()  # before the read: a wake-up after it sets this again
        record, pieces = await queue.job_and_progress(job_id, after)
