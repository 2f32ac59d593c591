"""A Python client of the HTTP API: submit a text, read or wait for its job, follow its summary as
it is written (Server-Sent Events), cancel it. `AsyncClient` (aiohttp) and `Client`, the same calls
for code without an event loop (they run on a loop of the client's own, in a thread).

    async with AsyncClient("http://localhost:3000", api_key="...") as client:
        job = await client.submit("A long text ...", max_words=50)
        done = await client.wait(job.id)
        print(done.summary)

Every refusal of the API (a problem document, RFC 9457) raises ProblemError, or the subclass named
for its kind, with the problem's fields.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import orjson

T = TypeVar("T")

FINAL = frozenset({"done", "failed", "expired", "cancelled"})
# The longest ?wait= the API takes; a longer wait is several of them.
MOST_WAIT_S = 60.0
# An event stream closed before its job's end is resumed this many times in a row at most; one
# silent this long (the server pings every 15 s) is taken for closed.
STREAM_RESUMES = 5
STREAM_SILENCE_S = 45.0


@dataclass(frozen=True)
class Job:
    """A job record as the API gives it (`record`: every field), with its common fields named."""

    record: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def status(self) -> str:
        return str(self.record["status"])

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def summary(self) -> str | None:
        return self.record.get("summary")

    @property
    def error(self) -> str | None:
        return self.record.get("error")


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event of a job's stream: `progress` (data: delta, attempt) or its ending
    (`done`, `failed`, ...: data is the record)."""

    event: str
    data: dict[str, Any]
    id: str = ""


@dataclass
class ProblemError(Exception):
    """The API refused a request: its problem document (`type`, `title`, `detail`, and any
    extension such as `field` or `job_status`), the HTTP status and Retry-After when sent."""

    status: int
    problem: dict[str, Any] = field(default_factory=dict)
    retry_after_s: float | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.problem.get('type', '')}: {self.problem.get('detail', '')}".strip()

    @property
    def kind(self) -> str:
        """The problem's type without its prefix: 'invalid-option', 'job-ended', ..."""
        return str(self.problem.get("type", "")).rsplit("/", 1)[-1]


class InvalidRequest(ProblemError):
    """400, 413, 415, 422: the request itself is wrong; sending it again changes nothing."""


class Unauthorized(ProblemError):
    """401, 403: no key, or a key that is not one of API_KEYS."""


class NotFound(ProblemError):
    """404: no such job, its record expired (RESULT_TTL), or another tenant's."""


class JobEnded(ProblemError):
    """409: a cancel of a job that had ended; `problem['job_status']` says how."""


class TooManyRequests(ProblemError):
    """429: over the tenant's quota; wait `retry_after_s`."""


class Unavailable(ProblemError):
    """503: Redis unreachable or full, the queue full, or the server at its limits; try again later."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    401: Unauthorized, 403: Unauthorized, 404: NotFound, 409: JobEnded, 429: TooManyRequests, 503: Unavailable,
}  # fmt: skip


class AsyncClient:
    def __init__(self, base_url: str = "http://localhost:3000", api_key: str | None = None, timeout_s: float = 90):
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def submit(self, text: str, *, wait_s: float = 0, idempotency_key: str | None = None, **options: Any) -> Job:
        """POST /process: the job (queued; or ended, when it ends within `wait_s`). `options`: the
        body's other fields (max_words, format, language, priority, expires_in, mode, ...); None
        values are left out."""
        body = {"text": text} | {name: value for name, value in options.items() if value is not None}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        query = {"wait": _seconds(min(wait_s, MOST_WAIT_S))} if wait_s > 0 else {}
        return Job(await self._call("POST", "/process", json=body, params=query, headers=headers))

    async def get(self, job_id: str, *, wait_s: float = 0) -> Job:
        """GET /jobs/{id}: the record now, or when it ends within `wait_s` (at most 60)."""
        query = {"wait": _seconds(min(wait_s, MOST_WAIT_S))} if wait_s > 0 else {}
        return Job(await self._call("GET", f"/jobs/{job_id}", params=query))

    async def wait(self, job_id: str, timeout_s: float | None = None) -> Job:
        """The job once it has ended (done, failed, expired or cancelled), waiting on the server
        (`?wait=`), never polling; after `timeout_s`, TimeoutError."""
        clock = asyncio.get_running_loop().time
        deadline = None if timeout_s is None else clock() + timeout_s
        pause_s = 0.05
        while True:
            left = MOST_WAIT_S if deadline is None else deadline - clock()
            if left <= 0:
                raise TimeoutError(f"job {job_id} had not ended within {timeout_s} s")
            asked_at, wait_s = clock(), min(left, MOST_WAIT_S)
            job = await self.get(job_id, wait_s=wait_s)
            if job.final:
                return job
            if clock() - asked_at < wait_s / 2:  # answered at once (the tenant's waits are all taken)
                await asyncio.sleep(min(pause_s, max(0.0, left)))
                pause_s = min(pause_s * 2, 2.0)

    async def cancel(self, job_id: str) -> Job:
        """DELETE /jobs/{id}: the cancelled record; JobEnded if it had ended."""
        return Job(await self._call("DELETE", f"/jobs/{job_id}"))

    async def stream(self, job_id: str) -> AsyncIterator[Event]:
        """GET /jobs/{id}/events: the summary's pieces as they are written (`progress` events),
        then the ending (its record as `data`), then the stream ends. A stream the server closes
        before the ending (a restart, an outage) is resumed from the last event (Last-Event-ID),
        up to STREAM_RESUMES times in a row; a silent connection (no ping for STREAM_SILENCE_S)
        counts as closed."""
        url, last_id, resumes = f"{self._base}/jobs/{job_id}/events", "", 0
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                timeout = aiohttp.ClientTimeout(sock_read=STREAM_SILENCE_S)
                async with self._open().get(url, headers=headers, timeout=timeout) as response:
                    await _raise_for_problem(response)
                    async for event in _events(response.content):
                        resumes, last_id = 0, event.id or last_id
                        yield event
                        if event.event in FINAL:
                            return
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError):
                pass
            resumes += 1
            if resumes > STREAM_RESUMES:
                raise ConnectionError(f"the event stream of job {job_id} closed {resumes} times before its end")
            await asyncio.sleep(min(0.25 * 2**resumes, 5.0))

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        async with self._open().request(method, f"{self._base}{path}", **kwargs) as response:
            await _raise_for_problem(response)
            record: dict[str, Any] = orjson.loads(await response.read())
            return record


class Client:
    """The AsyncClient's calls for code without an event loop: each runs on the client's own loop,
    in a thread of its own. `stream` yields the events as they come."""

    def __init__(self, base_url: str = "http://localhost:3000", api_key: str | None = None, timeout_s: float = 90):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="summarize-client", daemon=True)
        self._thread.start()
        self._client = AsyncClient(base_url, api_key, timeout_s)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_running():
            self._run(self._client.aclose())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def submit(self, text: str, *, wait_s: float = 0, idempotency_key: str | None = None, **options: Any) -> Job:
        return self._run(self._client.submit(text, wait_s=wait_s, idempotency_key=idempotency_key, **options))

    def get(self, job_id: str, *, wait_s: float = 0) -> Job:
        return self._run(self._client.get(job_id, wait_s=wait_s))

    def wait(self, job_id: str, timeout_s: float | None = None) -> Job:
        return self._run(self._client.wait(job_id, timeout_s))

    def cancel(self, job_id: str) -> Job:
        return self._run(self._client.cancel(job_id))

    def stream(self, job_id: str) -> Iterator[Event]:
        events = self._client.stream(job_id)
        try:
            while True:
                try:
                    yield self._run(events.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._run(events.aclose())

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()


async def _raise_for_problem(response: aiohttp.ClientResponse) -> None:
    if response.status < 400:
        return
    body = await response.read()
    try:
        problem = orjson.loads(body)
    except orjson.JSONDecodeError:
        problem = {"detail": body[:300].decode("utf-8", "replace")}
    if not isinstance(problem, dict):
        problem = {"detail": str(problem)[:300]}
    retry_after = response.headers.get("Retry-After")
    kind = _BY_STATUS.get(response.status, InvalidRequest if response.status < 500 else ProblemError)
    raise kind(response.status, problem, float(retry_after) if retry_after and retry_after.isdigit() else None)


async def _events(content: aiohttp.StreamReader) -> AsyncIterator[Event]:
    """Server-Sent Events as the API writes them: `id:`, `event:`, one `data:` line, a blank line."""
    name, data, event_id = "message", [], ""
    async for raw in content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield Event(name, orjson.loads("\n".join(data)), event_id)
            name, data, event_id = "message", [], ""
        elif line.startswith("event:"):
            name = line[6:].removeprefix(" ")
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))  # one space after the colon is the syntax's, no more
        elif line.startswith("id:"):
            event_id = line[3:].removeprefix(" ")


def _seconds(value: float) -> str:
    return f"{value:g}"
