"""The edge under abuse, over real sockets to the server as `python -m app` runs it
(ProblemAppRunner): slow heads and bodies are cut at their timeouts, idle sockets beyond
MAX_CONNECTIONS cannot take /healthz down, and streams beyond MAX_EVENT_STREAMS get a 503.

Timing claims are only the configured bounds: closed no earlier than the timeout, and no
later than the timeout plus a slack of SLACK_S (a loaded CI machine)."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from app.api.app import create_app
from app.api.edge import ProblemAppRunner
from app.config import Settings
from app.queue.contract import Keys
from tests.api.raw_http import Answer, Serve, read_answer, read_head, send
from tests.conftest import with_
from tests.helpers import eventually

SLACK_S = 2.0
EARLY_S = 0.05  # a timer may fire a clock tick early
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

ServeApp = Callable[..., Awaitable[int]]


@pytest.fixture
def serve_app(serve: Serve, settings: Settings) -> ServeApp:
    """Start the API on a free port with the settings changed as asked; its port."""

    async def start(**changes: object) -> int:
        return await serve(ProblemAppRunner(create_app(with_(settings, **changes))))

    return start


async def ask(port: int, raw: bytes = HEALTHZ) -> Answer:
    return await send(port, raw)


async def until_closed(reader: asyncio.StreamReader, within_s: float) -> tuple[float, bytes]:
    """Seconds until the server closes the connection, and what it sent before."""
    loop = asyncio.get_running_loop()
    started, received = loop.time(), b""
    async with asyncio.timeout(within_s):
        with contextlib.suppress(ConnectionResetError):
            while chunk := await reader.read(65536):
                received += chunk
    return loop.time() - started, received


def assert_408_or_nothing(received: bytes) -> None:
    """A slow head is answered 408 problem+json before the close, or closed cleanly."""
    if received:
        assert received.startswith(b"HTTP/1.1 408 "), received
        assert b"application/problem+json" in received
        assert b'"type":"/problems/request-timeout"' in received


async def test_a_socket_that_sends_nothing_is_closed_after_the_header_timeout(serve_app: ServeApp) -> None:
    port = await serve_app(header_timeout_s=1.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seconds, received = await until_closed(reader, within_s=1.0 + SLACK_S)
    writer.close()
    print(f"\nidle socket: closed after {seconds:.2f} s (HEADER_TIMEOUT 1.0 s)")
    assert seconds >= 1.0 - EARLY_S
    assert_408_or_nothing(received)


async def trickle(writer: asyncio.StreamWriter, lines: list[bytes], every_s: float) -> None:
    """Send one line every `every_s`, until the server closes the connection."""
    with contextlib.suppress(ConnectionError):
        for line in lines:
            writer.write(line)
            await writer.drain()
            await asyncio.sleep(every_s)


SLOW_HEAD = [b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", *(f"X-Slow-{i}: a\r\n".encode() for i in range(200))]


async def trickled_head(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, every_s: float, timeout_s: float
) -> tuple[float, bytes]:
    """Send SLOW_HEAD a line every `every_s`; seconds until the server closed, and what it sent."""
    sender = asyncio.create_task(trickle(writer, SLOW_HEAD, every_s=every_s))
    try:
        return await until_closed(reader, within_s=timeout_s + SLACK_S)
    finally:
        sender.cancel()
        writer.close()


async def test_a_head_trickled_a_line_every_half_second_is_cut_at_the_header_timeout(serve_app: ServeApp) -> None:
    port = await serve_app(header_timeout_s=2.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seconds, received = await trickled_head(reader, writer, every_s=0.5, timeout_s=2.0)
    print(f"\ntrickled head (a line every 0.5 s): closed after {seconds:.2f} s (HEADER_TIMEOUT 2.0 s)")
    assert seconds >= 2.0 - EARLY_S
    assert_408_or_nothing(received)


KEEP_ALIVE_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


async def kept_alive(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that has had one answer and stays open for the next request."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(KEEP_ALIVE_HEALTHZ)
    async with asyncio.timeout(10):
        assert (await read_answer(reader)).status == 200
    return reader, writer


async def test_a_kept_alive_connection_idles_for_the_keepalive_timeout_not_the_header_timeout(
    serve_app: ServeApp,
) -> None:
    reader, writer = await kept_alive(await serve_app(header_timeout_s=1.0, keepalive_timeout_s=3.0))
    seconds, received = await until_closed(reader, within_s=3.0 + SLACK_S)
    writer.close()
    print(f"\nkept-alive idle connection: closed {seconds:.2f} s after its response (KEEPALIVE_TIMEOUT 3.0 s)")
    assert seconds >= 3.0 - EARLY_S
    assert received == b""


async def test_a_kept_alive_connection_trickling_its_next_head_is_cut_at_the_header_timeout(
    serve_app: ServeApp,
) -> None:
    reader, writer = await kept_alive(await serve_app(header_timeout_s=1.0, keepalive_timeout_s=30.0))
    seconds, received = await trickled_head(reader, writer, every_s=0.25, timeout_s=1.0)
    print(f"\nkept-alive, next head trickled: closed after {seconds:.2f} s (HEADER_TIMEOUT 1.0 s)")
    assert seconds >= 1.0 - EARLY_S
    assert_408_or_nothing(received)


async def test_a_body_trickled_slower_than_the_body_timeout_gets_a_408_and_the_connection_closes(
    serve_app: ServeApp, redis: aioredis.Redis, keys: Keys
) -> None:
    port = await serve_app(body_timeout_s=1.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    writer.write(head)
    sender = asyncio.create_task(trickle(writer, [b'{"text": "', *[b"a"] * 190], every_s=0.2))
    seconds, received = await until_closed(reader, within_s=1.0 + SLACK_S)
    sender.cancel()
    writer.close()
    print(f"\ntrickled body (a byte every 0.2 s): answered and closed after {seconds:.2f} s (BODY_TIMEOUT 1.0 s)")
    assert seconds >= 1.0 - EARLY_S
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert b"Connection: close" in received
    assert b'"type":"/problems/request-timeout"' in received
    assert await redis.llen(keys.queue) == 0


async def test_healthz_answers_throughout_while_more_idle_sockets_than_the_cap_are_open(serve_app: ServeApp) -> None:
    cap, idle_n, header_timeout_s = 50, 200, 3.0
    port = await serve_app(max_connections=cap, header_timeout_s=header_timeout_s)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: list[int] = []
    opened = asyncio.Event()

    async def probe() -> None:  # /healthz on a fresh connection every 20 ms until the last idle socket is gone
        while not opened.is_set() or not all(task.done() for task in idle):
            started = loop.time()
            statuses.append((await ask(port)).status)
            latencies.append(loop.time() - started)
            await asyncio.sleep(0.02)

    async def idle_socket() -> float:
        """Open a socket, send nothing; seconds until the server closes it."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            seconds, received = await until_closed(reader, within_s=header_timeout_s + SLACK_S)
        finally:
            writer.close()
        assert_408_or_nothing(received)
        return seconds

    idle: list[asyncio.Task[float]] = []
    prober = asyncio.create_task(probe())
    started = loop.time()
    for _ in range(idle_n // 10):  # 200 sockets over ~0.5 s
        idle += [asyncio.create_task(idle_socket()) for _ in range(10)]
        await asyncio.sleep(0.025)
    opening_s = loop.time() - started
    await asyncio.sleep(0.5)  # every socket connected (the last batch too)
    still_open = sum(not task.done() for task in idle)
    opened.set()
    lifetimes = await asyncio.gather(*idle)
    await prober
    print(
        f"\n{idle_n} idle sockets opened in {opening_s:.2f} s with MAX_CONNECTIONS {cap}: {still_open} still open "
        f"0.5 s after the last; each closed after {min(lifetimes):.2f}-{max(lifetimes):.2f} s (HEADER_TIMEOUT "
        f"{header_timeout_s} s; the earlier ones to make room). Meanwhile {len(statuses)} /healthz on fresh "
        f"connections: statuses {sorted(set(statuses))}, latency median {statistics.median(latencies) * 1000:.1f} "
        f"ms, max {max(latencies) * 1000:.1f} ms"
    )
    assert set(statuses) == {200}
    assert still_open <= cap, "the server holds no more than MAX_CONNECTIONS"
    assert max(lifetimes) <= header_timeout_s + SLACK_S


async def open_stream(port: int, job_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Answer | None]:
    """A GET of the job's events; the answer if it is not a stream (a stream's head only is read)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /jobs/{job_id}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    async with asyncio.timeout(10):
        answer = await read_head(reader)
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            return reader, writer, None
        answer.body = await reader.readexactly(int(answer.headers.get("content-length", "0")))
    return reader, writer, answer


@pytest.fixture
async def queued_job(redis: aioredis.Redis, keys: Keys) -> AsyncIterator[str]:
    """A job that stays queued (no worker runs): its event stream stays open."""
    await redis.hset(keys.job("held-job"), mapping={"status": "queued", "attempts": 0})
    yield "held-job"
    await redis.delete(keys.job("held-job"))


async def test_a_stream_beyond_max_event_streams_gets_a_503_problem(serve_app: ServeApp, queued_job: str) -> None:
    port = await serve_app(max_event_streams=2)
    held = [await open_stream(port, queued_job) for _ in range(2)]
    assert [answer for _, _, answer in held] == [None, None], "two streams open"

    _, writer, answer = await open_stream(port, queued_job)
    writer.close()
    assert answer is not None
    assert (answer.status, answer.problem["type"]) == (503, "/problems/too-many-streams")
    assert int(answer.headers["retry-after"]) > 0
    assert (await ask(port)).status == 200, "other requests are served"

    held[0][1].close()  # one stream ends: a new one opens

    async def a_stream_opens() -> bool:
        _, writer, answer = await open_stream(port, queued_job)
        writer.close()
        return answer is None

    await eventually(a_stream_opens, timeout_s=20, what="a stream opening after one closed")
    held[1][1].close()


async def test_when_every_connection_is_busy_a_new_one_gets_a_503_problem(serve_app: ServeApp, queued_job: str) -> None:
    port = await serve_app(max_connections=3)
    held = [await open_stream(port, queued_job) for _ in range(3)]
    assert [answer for _, _, answer in held] == [None, None, None], "three busy connections"

    answer = await ask(port)
    assert (answer.status, answer.problem["type"]) == (503, "/problems/too-many-connections")
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["connection"] == "close"

    held[0][1].close()
    await eventually(lambda: _healthz_ok(port), timeout_s=20, what="/healthz answered once a connection is free")
    for _, writer, _ in held[1:]:
        writer.close()


async def _healthz_ok(port: int) -> bool:
    return (await ask(port)).status == 200
