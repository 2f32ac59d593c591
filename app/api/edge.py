"""Errors aiohttp answers before any handler or middleware runs, in the API's one error shape.

A request aiohttp cannot parse (a bad request line, control bytes or a bare LF in a
header, a folded header, a body whose Content-Encoding does not decode) is answered by
its protocol handler as text/plain, with the parser's message, which quotes the bytes
received. Here it is problem+json like every other error, and quotes nothing. So is an
Expect header other than 100-continue (417), which aiohttp checks before the middlewares
(our routes' expect handler, and for any other path whatever aiohttp raises there).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import HttpVersion11, hdrs, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from app.api.problems import Problem, problem_response

log = logging.getLogger(__name__)

_DETAILS = {
    400: "the request is not valid HTTP/1.1 (its request line, a header or its framing); nothing of it was used",
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


class _ProblemRequestHandler(RequestHandler):
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
        response.force_close()
        return response

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        # An HTTP error raised before the middlewares (aiohttp's own Expect check on a path
        # no route matches, which quotes the header): the same problem shape as the rest.
        if isinstance(resp, web.HTTPException) and resp.status >= 400:
            resp = problem_response(problem_for_status(resp.status), None)
        return await super().finish_response(request, resp, start_time)


class _ProblemServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class ProblemAppRunner(web.AppRunner):
    """An AppRunner whose connections answer unparseable requests as problem+json."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds its request handlers in Server.__call__ with no hook to choose
        # their class; this subclass changes only that.
        server.__class__ = _ProblemServer
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
