"""What the service's logs say about a hostile request, as the process writes them (the
project's logging setup, text and JSON): no credential it carried, and no line it forged.

Sent over raw sockets (a well-behaved client cannot send these) to the API as `python -m app`
runs it (ProblemAppRunner) and to a worker's probe port, which is a plain aiohttp AppRunner:
there aiohttp's own `aiohttp.server` logger writes "Error handling request" at ERROR with the
parser's exception, whose message quotes the bytes received, Authorization header and all."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Iterator

import orjson
import pytest
from aiohttp import web

from app.api.app import create_app
from app.api.edge import ProblemAppRunner
from app.config import Settings
from app.logs import setup_logging
from app.metrics import Metrics
from app.worker.probe import probe_app
from tests.api.raw_http import Serve
from tests.conftest import with_
from tests.helpers import eventually
from tests.redis_server import free_port

KEY = "scrub-me-" + "Q7x" * 8  # an API key of the server under test
BEARER = f"Authorization: Bearer {KEY}"

# Requests aiohttp's parser refuses, each quoting the key in the parser's message.
UNPARSEABLE = {
    "bare LF line endings": f"GET /healthz HTTP/1.1\nHost: x\n{BEARER}\nConnection: close\n\n",
    "a bare LF after the key": f"GET /healthz HTTP/1.1\r\nHost: x\r\n{BEARER}\nX-A: b\r\nConnection: close\r\n\r\n",
    "a folded Authorization": f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n {BEARER}\r\nConnection: close\r\n\r\n",
    "the key on a folded line": f"GET /healthz HTTP/1.1\r\nAuthorization: Bearer\r\n {KEY}\r\n\r\n",
    "a control byte after the key": f"GET /healthz HTTP/1.1\r\nHost: x\r\n{BEARER}\x01\r\nConnection: close\r\n\r\n",
    "the key in the request line": f"GET /healthz HTTP/1.1 {KEY}\r\nHost: x\r\n\r\n",
    "Proxy-Authorization and Cookie": (
        f"GET /healthz HTTP/1.1\r\nProxy-Authorization: Basic {KEY}\x01\r\nCookie: s={KEY}\nConnection: close\r\n\r\n"
    ),
    "X-Api-Key": f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Api-Key: {KEY}\x7f\r\nConnection: close\r\n\r\n",
}
LINE = re.compile(r"\d\d:\d\d:\d\d\.\d{3} [A-Z]+ +\S+: ")  # how every text record begins


class Output:
    """What the project's log handler wrote."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.buffer = io.StringIO()

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def records(self) -> list[dict[str, object]]:
        assert self.fmt == "json"
        return [orjson.loads(line) for line in self.text.splitlines()]


@pytest.fixture(params=["text", "json"])
def output(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Output]:
    """The project's logging setup (setup_logging) writing to a buffer. The environment has no
    API_KEYS, so the handler does not know KEY by value: what is scrubbed is scrubbed by shape."""
    monkeypatch.delenv("API_KEYS", raising=False)
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    saved = ([h for h in root.handlers if not type(h).__module__.startswith("_pytest")], root.level, access.level)
    captured = Output(request.param)
    handler = setup_logging(logging.INFO, captured.fmt, stream=captured.buffer)
    yield captured
    root.removeHandler(handler)
    root.handlers.extend(saved[0])
    root.setLevel(saved[1])
    access.setLevel(saved[2])


async def exchange(port: int, raw: bytes) -> bytes:
    """Send `raw`, read until the server closes the connection (every request here says close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    return answer


async def refused_requests(port: int, output: Output) -> None:
    for name, raw in UNPARSEABLE.items():
        answer = await exchange(port, raw.encode())
        assert answer.split(b" ", 2)[1] == b"400", (name, answer)

    async def all_logged() -> bool:
        return output.text.count("\n") >= len(UNPARSEABLE)

    await eventually(all_logged, what="a log line for each refused request")


async def test_a_worker_probe_logs_a_refused_request_without_the_key_it_carried(serve: Serve, output: Output) -> None:
    port = await serve(web.AppRunner(probe_app(lambda: True, Metrics()), access_log=None))
    await refused_requests(port, output)
    assert KEY not in output.text
    assert KEY[:12] not in output.text  # nor a part of it
    assert "aiohttp.server" in output.text  # aiohttp's own logger wrote them: what was leaking
    if output.fmt == "json":
        refused = [r for r in output.records() if r["logger"] == "aiohttp.server"]
        assert len(refused) == len(UNPARSEABLE)
        assert all(r["status"] == 400 and r["error"] and r["reason"] and "exc" not in r for r in refused), refused
    else:
        assert all(LINE.match(line) for line in output.text.splitlines()), output.text


async def test_the_api_logs_a_refused_request_without_the_key_it_carried(
    serve: Serve, output: Output, settings: Settings
) -> None:
    port = await serve(ProblemAppRunner(create_app(with_(settings, api_keys=(KEY,)))))
    await refused_requests(port, output)
    assert KEY not in output.text
    assert KEY[:12] not in output.text


async def test_a_path_with_control_characters_is_one_log_line(serve: Serve, output: Output, settings: Settings) -> None:
    """A handler that logs the request's path (as a field and in its message): its URL-decoded
    newline, carriage return, NEL, LS/PS and ESC stay inside that one record."""
    log = logging.getLogger("tests.paths")

    async def logs_its_path(request: web.Request) -> web.Response:
        log.warning("no such page: %s", request.path, extra={"path": request.path})
        return web.json_response({})

    app = create_app(with_(settings, api_keys=(KEY,)))
    app.router.add_get("/x{rest:[^/]*}", logs_its_path)  # [^/], unlike ., takes a newline
    port = await serve(ProblemAppRunner(app))
    simple = "/x%0aforged=1%20level=ERROR"
    forged = simple + "%0d%0a12:00:00.000%20ERROR%20%20%20app:%20forged%c2%85%e2%80%a8%e2%80%a9%1b[31m"
    for path in (simple, forged):
        head = f"GET {path} HTTP/1.1\r\nHost: x\r\n{BEARER}\r\nConnection: close\r\n\r\n"
        assert b" 200 " in (await exchange(port, head.encode())).split(b"\r\n", 1)[0]

    async def both_logged() -> bool:
        return output.text.count("no such page") == 2

    await eventually(both_logged, what="both requests logged")
    lines = output.text.splitlines()  # splits on \n, \r, \x85, \u2028, \u2029 and more, like many readers
    mine = [line for line in lines if "forged" in line]
    assert len(mine) == 2, output.text
    if output.fmt == "json":
        paths = [r["path"] for r in output.records() if r["logger"] == "tests.paths"]
        decoded = "/x\nforged=1 level=ERROR"
        assert paths == [
            decoded,
            decoded + "\r\n12:00:00.000 ERROR   app: forged\x85\u2028\u2029\x1b[31m",
        ]
    else:
        assert all(LINE.match(line) for line in lines), output.text
        assert mine[0].endswith(' path="/x\\nforged=1 level=ERROR"'), mine[0]
        assert "no such page: /x\\nforged=1 level=ERROR path=" in mine[0]
        assert "\x1b" not in output.text and "\\u001b[31m" in mine[1]


async def test_a_redis_outage_is_logged_without_the_password_of_redis_url(
    serve: Serve, output: Output, settings: Settings
) -> None:
    """The lines an outage brings ("redis unavailable", the result hub's retries) name the
    error, never REDIS_URL's password (not known to the handler by value here)."""
    down = with_(settings, redis_url=f"redis://:{KEY}@127.0.0.1:{free_port()}/0")
    port = await serve(ProblemAppRunner(create_app(down)))
    head = "GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert b" 503 " in (await exchange(port, head.encode())).split(b"\r\n", 1)[0]

    async def logged() -> bool:
        return "redis unavailable" in output.text

    await eventually(logged, what="the outage logged")
    assert KEY not in output.text
