"""Odd bytes at the HTTP edge: each is a 4xx problem+json that quotes nothing it was sent,
and none is a 500 or a traceback. Sent over raw sockets to the server as `python -m app`
runs it (ProblemAppRunner), since a well-behaved client cannot send most of them."""

from __future__ import annotations

import gzip
import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from app.api.app import create_app
from app.api.edge import ProblemAppRunner
from app.config import Settings
from app.queue.contract import Keys
from tests.api.raw_http import Answer, send
from tests.conftest import with_
from tests.redis_server import free_port

KEY = "k" * 24
AUTH = f"Authorization: Bearer {KEY}\r\n".encode()
MARKER = b"ECHOME"  # must never come back in an answer


@pytest.fixture
async def port(settings: Settings) -> AsyncIterator[int]:
    runner = ProblemAppRunner(create_app(with_(settings, api_keys=(KEY,))))
    await runner.setup()
    chosen = free_port()
    await web.TCPSite(runner, "127.0.0.1", chosen).start()
    yield chosen
    await runner.cleanup()


def problem(answer: Answer) -> dict[str, object]:
    """The answer's problem, which must not quote what the request sent."""
    assert MARKER not in answer.body, f"the answer quotes the request: {answer.body!r}"
    return answer.problem


def get(path: str, *extra: bytes) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + AUTH + b"".join(extra) + b"Connection: close\r\n\r\n"


def post(body: bytes, *extra: bytes) -> bytes:
    head = b"POST /process HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
    return head + b"".join(extra) + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    caplog.set_level(logging.INFO)
    yield  # type: ignore[misc]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


async def test_a_key_that_is_not_utf8_is_just_a_wrong_key(port: int) -> None:
    raw = b"GET /stats HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff" + MARKER + b"\r\nConnection: close\r\n\r\n"
    answer = await send(port, raw)
    assert (answer.status, problem(answer)["type"]) == (401, "/problems/unauthorized")


@pytest.mark.parametrize("limit", ["²", "①", "٣", "1e2", "-1", "0", "101", ""])
async def test_a_limit_that_is_not_ascii_digits_from_1_to_100_is_a_400(port: int, limit: str) -> None:
    from urllib.parse import quote

    answer = await send(port, get(f"/jobs?limit={quote(limit)}"))
    assert (answer.status, problem(answer)["type"]) == (400, "/problems/invalid-limit")


@pytest.mark.parametrize("last_id", ["99999999999999999999-0", "1-99999999999999999999", "\u0661-\u0661", "1-", "x"])
@pytest.mark.parametrize("job_id", ["no-such-job", "queued-job"])
async def test_a_last_event_id_we_never_sent_is_a_400(
    port: int, redis: aioredis.Redis, keys: Keys, last_id: str, job_id: str
) -> None:
    await redis.hset(keys.job("queued-job"), mapping={"status": "queued", "attempts": 0})
    answer = await send(port, get(f"/jobs/{job_id}/events", f"Last-Event-ID: {last_id}\r\n".encode()))
    assert (answer.status, problem(answer)["type"]) == (400, "/problems/invalid-last-event-id")
    await redis.delete(keys.job("queued-job"))


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_a_body_that_does_not_decode_as_its_encoding_is_a_400_and_enqueues_nothing(
    port: int, redis: aioredis.Redis, keys: Keys, encoding: str
) -> None:
    answer = await send(port, post(b'{"text": "' + MARKER + b'"}', f"Content-Encoding: {encoding}\r\n".encode()))
    assert answer.status == 400
    assert problem(answer)["type"] in ("/problems/invalid-body-encoding", "/problems/bad-request")
    assert await redis.llen(keys.queue) == 0


async def test_a_body_that_does_decode_as_its_encoding_is_accepted(port: int) -> None:
    answer = await send(port, post(gzip.compress(b'{"text": "compressed text"}'), b"Content-Encoding: gzip\r\n"))
    assert answer.status == 202


MALFORMED = [
    b"GET /" + MARKER + b" HTTP/1.1 extra\r\nHost: x\r\n\r\n",  # a bad request line
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01" + MARKER + b"\r\n\r\n",  # a control byte in a header
    b"GET / HTTP/1.1\nHost: x\n\n",  # bare LF line ends
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n " + MARKER + b"\r\n\r\n",  # a folded header
    b"\x16\x03\x01\x00" + MARKER + b"\r\n\r\n",  # TLS to the plain port
]


@pytest.mark.parametrize("raw", MALFORMED, ids=["request-line", "control-byte", "bare-lf", "folded", "tls"])
async def test_what_the_http_parser_refuses_is_a_problem_that_quotes_nothing(port: int, raw: bytes) -> None:
    answer = await send(port, raw)
    assert answer.status == 400
    assert problem(answer)["type"] == "/problems/bad-request"


@pytest.mark.parametrize("path", ["/process", "/no-such-path"])
async def test_an_expectation_other_than_100_continue_is_a_417_problem(port: int, path: str) -> None:
    raw = post(b'{"text": "t"}', b"Expect: " + MARKER + b"\r\n").replace(b"/process", path.encode(), 1)
    answer = await send(port, raw)
    assert (answer.status, problem(answer)["type"]) == (417, "/problems/expectation-failed")
