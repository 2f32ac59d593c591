"""Errors aiohttp answers before any handler or middleware runs, in the API's one error shape.

A request aiohttp cannot parse (a bad request line, control bytes or a bare LF in a
header, a folded header, a body whose Content-Encoding does not decode) is answered by
its protocol handler as text/plain, with the parser's message, which quotes the bytes
received. Here it is problem+json like every other error, and quotes nothing. So is an
Expect header other than 100-continue (417), which aiohttp checks before the middlewares
(our routes' expect handler, and for any other path whatever aiohttp raises there).

The connections also hold the edge's limits (aiohttp has no header-read timeout of its own):
- a request line and headers must arrive within HEADER_TIMEOUT: from the connection's opening,
  and on a kept-alive connection from the first byte of its next request (the wait for that
  byte is KEEPALIVE_TIMEOUT's, aiohttp's own timer, which also closes a connection whose next
  head is not complete that long after the previous response). Too slow: a 408 problem+json if
  no response is under way, and the connection is closed;
- a body too slow for BODY_TIMEOUT is a 408 (app/api/intake.py), after which the connection is
  closed at once rather than lingering to read the rest;
- every connection passes the ConnectionGate (MAX_CONNECTIONS, app/api/limits.py): at the cap,
  the longest-idle connection is closed to make room, or if all are busy the new one gets a 503
  problem+json with Retry-After, written without reading its request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import HttpVersion11, hdrs, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from app.api.headers import EVERY_RESPONSE
from app.api.limits import ConnectionGate
from app.api.problems import PROBLEM_JSON, Problem, problem_response
from app.api.resources import SETTINGS
from app.config import Settings

log = logging.getLogger(__name__)

_DETAILS = {
    400: "the request is not valid HTTP/1.1 (its request line, a header or its framing); nothing of it was used",
    408: "the request's line and headers did not arrive in time (HEADER_TIMEOUT); the connection is closed",
    413: "the request is larger than the server accepts",
    431: "the request's header fields are too large",
    500: "an unexpected error; it is logged on the server",
    504: "the request took too long to handle",
}


def problem_for_status(status: int, detail: str | None = None) -> Problem:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name
        phrase = "Error"
    kind = phrase.lower().replace(" ", "-")
    return Problem(status, kind, phrase, detail or _DETAILS.get(status, phrase))


def _raw_response(problem: Problem) -> bytes:
    """A whole HTTP/1.1 response that closes the connection, for writing to a transport that
    has no request (one refused at the cap, or one whose request never came)."""
    body = problem_response(problem, None).body
    assert isinstance(body, bytes)
    head = [
        f"HTTP/1.1 {problem.status} {HTTPStatus(problem.status).phrase}",
        f"Content-Type: {PROBLEM_JSON}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (problem.headers | EVERY_RESPONSE).items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


CONNECTIONS_RETRY_AFTER_S = 1
_AT_CAPACITY = _raw_response(
    Problem(
        503,
        "too-many-connections",
        "Service Unavailable",
        "this server holds as many connections as it may (MAX_CONNECTIONS), all busy; retry shortly",
        {"Retry-After": str(CONNECTIONS_RETRY_AFTER_S)},
    )
)
_HEAD_TOO_SLOW = _raw_response(problem_for_status(408))
# A refused connection is read (and what it sends dropped) until it closes, or this long: closing
# a socket with unread bytes resets it, and the reset can overtake the 503.
REFUSAL_LINGER_S = 1.0


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    header_timeout_s: float
    gate: ConnectionGate

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeLimits:
        return cls(settings.header_timeout_s, ConnectionGate(settings.max_connections))


class _ProblemRequestHandler(RequestHandler):
    def __init__(self, manager: web.Server, *, loop: asyncio.AbstractEventLoop, **kwargs: Any) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self._edge: EdgeLimits = manager.edge  # type: ignore[attr-defined]
        self._head_timer: asyncio.TimerHandle | None = None
        self._awaiting_head = True  # no request is under way: the next bytes are a request head
        self._refusal: asyncio.TimerHandle | None = None  # set on a connection refused at the cap

    # -- the connection cap --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._edge.gate.admit(self):
            self._refuse(transport)
            return
        super().connection_made(transport)
        self._arm_head_timer()

    def _refuse(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_AT_CAPACITY)
        transport.write_eof()
        self._refusal = self._loop.call_later(REFUSAL_LINGER_S, transport.abort)

    def evict(self) -> None:
        """Closed to make room for a new connection (this one waited longest for a request)."""
        self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._refusal is not None:  # refused: nothing else was set up
            self._refusal.cancel()
            return
        self._disarm_head_timer()
        self._edge.gate.release(self)
        super().connection_lost(exc)

    # -- the header timeout --

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # a refused connection's request is dropped unread
        heads = self._request_count
        super().data_received(data)
        if self._request_count != heads:  # a request head arrived (or an unparseable one)
            self._awaiting_head = False
            self._disarm_head_timer()
            self._edge.gate.busy(self)
        elif data and self._awaiting_head:
            # A head begun but not whole: its clock runs from now (a head that comes whole, the
            # usual case, needs none: no timer per request).
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self._loop.call_later(self._edge.header_timeout_s, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport is None or self._force_close or not self._awaiting_head:
            return
        if not self._request_in_progress:  # no response under way: a 408 says why before the close
            self.transport.write(_HEAD_TOO_SLOW)
        self._edge.gate.note("closed_slow_head")
        self.force_close()

    def _response_done(self, resp: web.StreamResponse, reset: bool) -> None:
        if reset or self._force_close or self._close:
            return
        if resp.status == 408:  # its body too slow (intake): close now, rather than linger to read the rest
            self.force_close()
        elif resp.keep_alive and not self._messages:  # kept alive, and no pipelined request is waiting
            self._awaiting_head = True
            self._edge.gate.waiting(self)

    # -- problem+json for what aiohttp answers itself --

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        if status >= 500:
            log.error("request failed before its handler", exc_info=exc, extra={"status": status})
        else:  # a client's malformed request: one line, not a traceback per probe of the port
            log.info("malformed request refused", extra={"status": status, "error": type(exc).__name__})
        if request.writer.output_size > 0:
            raise ConnectionError("the response had begun; the connection is closed instead")
        response = problem_response(problem_for_status(status), None)
        response.headers.update(EVERY_RESPONSE)  # no app, so no on_response_prepare hook, answers this one
        response.force_close()
        return response

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        # An HTTP error raised before the middlewares (aiohttp's own Expect check on a path
        # no route matches, which quotes the header): the same problem shape as the rest.
        if isinstance(resp, web.HTTPException) and resp.status >= 400:
            resp = problem_response(problem_for_status(resp.status), None)
            resp.headers.update(EVERY_RESPONSE)
        if resp.status == 408:
            resp.force_close()
        resp, reset = await super().finish_response(request, resp, start_time)
        self._response_done(resp, reset)
        return resp, reset


class _ProblemServer(web.Server):
    edge: EdgeLimits

    def __call__(self) -> RequestHandler:
        return _ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class ProblemAppRunner(web.AppRunner):
    """An AppRunner whose connections answer unparseable requests as problem+json and hold the
    edge's limits: the app's HEADER_TIMEOUT, KEEPALIVE_TIMEOUT and MAX_CONNECTIONS."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        settings = app.get(SETTINGS) or Settings()
        kwargs.setdefault("keepalive_timeout", settings.keepalive_timeout_s)
        super().__init__(app, **kwargs)
        self._edge = EdgeLimits.from_settings(settings)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds its request handlers in Server.__call__ with no hook to choose
        # their class; this subclass changes only that.
        server.__class__ = _ProblemServer
        server.edge = self._edge  # type: ignore[attr-defined]
        return server


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue` as aiohttp does it; any other expectation, a 417 problem
    that does not quote the header (aiohttp's own does)."""
    expect = request.headers.get(hdrs.EXPECT, "")
    if request.version != HttpVersion11:
        return None
    if expect.lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the response proper has not begun
        return None
    detail = "the only expectation this server meets is 'Expect: 100-continue'"
    return problem_response(problem_for_status(417, detail), request.path)
