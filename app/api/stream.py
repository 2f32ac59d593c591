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

import contextlib
import re
from collections.abc import AsyncGenerator
from typing import Final

import orjson
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from app.api.headers import EVERY_RESPONSE
from app.api.jobs import visible
from app.api.problems import Problem, job_not_found
from app.api.resources import HUB, QUEUE
from app.connection.errors import UNAVAILABLE
from app.queue.contract import JOB_ID_RE, is_final
from app.queue.follow import follow
from app.queue.reads import Piece, Record

Read = tuple[Record | None, list[Piece]]

END_ID: Final = "end"
# The id of the one piece a finished job is replayed as: before any real stream entry.
REPLAY_ID: Final = "0-1"
_STREAM_ID_RE: Final = re.compile(r"([0-9]{1,20})-([0-9]{1,20})", re.ASCII)
_MAX_STREAM_PART: Final = 2**64 - 1
# How often a quiet stream checks that its client is still there (aiohttp-sse pings every 15 s).
RECHECK_S: Final = 5.0
# A job that starts within this long of a stream opening on it streams its summary as it is
# written; one with nobody listening gets a plain model call (cheaper), its summary at the end.
LISTEN_TTL_S: Final = 3600


async def job_events(request: web.Request) -> web.StreamResponse:
    job_id = request.match_info["job_id"]
    if not JOB_ID_RE.fullmatch(job_id):
        raise job_not_found(job_id)
    last_id = request.headers.get("Last-Event-ID", "").strip()
    if last_id == END_ID:
        return web.Response(status=204, headers=EVERY_RESPONSE)  # it saw the end: nothing more will come
    reads, hub = request.app[QUEUE].reads, request.app[HUB]
    cursor = [_resume_after(last_id)]  # the last piece sent: each read asks for what came after

    def ended(read: Read) -> bool:
        return read[0] is None or is_final(read[0]) or hub.closing

    # Registered before the first read, so a piece written after that read wakes us.
    async with hub.waiter(job_id, progress=True) as woken:
        reads_after = follow(lambda: reads.job_and_progress(job_id, cursor[0]), woken, ended, recheck_s=RECHECK_S)
        async with contextlib.aclosing(reads_after):
            first = await anext(reads_after)
            if visible(request, first[0]) is None:
                raise job_not_found(job_id)
            if not ended(first):
                await request.app[QUEUE].producer.listen(job_id, LISTEN_TTL_S)
            async with sse_response(request, sep="\n", headers=EVERY_RESPONSE) as stream:
                with contextlib.suppress(*UNAVAILABLE):  # Redis away: close; the client resumes from its last id
                    await _relay(stream, first, reads_after, cursor)
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


async def _relay(stream: EventSourceResponse, first: Read, more: AsyncGenerator[Read, None], cursor: list[str]) -> None:
    """Send each read's pieces, and the ending when it comes, until the job ends, the
    client goes or the server stops."""
    read: Read | None = first
    while read is not None and stream.is_connected():
        record, pieces = read
        for entry_id, attempt, text in pieces:
            data = orjson.dumps({"delta": text, "attempt": attempt}).decode()
            await stream.send(data, id=entry_id, event="progress")
            cursor[0] = entry_id
        if record is not None and is_final(record):
            return await _send_ending(stream, record, came_after_end=cursor[0] == "-")
        read = await anext(more, None)  # None: expired meanwhile, or shutting down


async def _send_ending(stream: EventSourceResponse, record: Record, *, came_after_end: bool) -> None:
    summary = record.get("summary")
    if came_after_end and isinstance(summary, str):  # the stream went with the ending: the record has it all
        replay = orjson.dumps({"delta": summary, "attempt": record.get("attempts", 1)}).decode()
        await stream.send(replay, id=REPLAY_ID, event="progress")
    await stream.send(orjson.dumps(record).decode(), id=END_ID, event=str(record["status"]))
