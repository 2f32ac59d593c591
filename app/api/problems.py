"""RFC 9457 problem details: the one shape every HTTP error of the API takes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

import orjson
from aiohttp import web

from app.api.headers import EVERY_RESPONSE
from app.connection.errors import FULL, UNAVAILABLE

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """A client-visible error. `kind` names it (`type` is /problems/<kind>); `extra` holds
    extension members (RFC 9457), such as the name of the field that was wrong."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def problem_response(problem: Problem, instance: str | None) -> web.Response:
    """The problem as a response; `instance` (the request's path) None when there is no
    path worth quoting (a request that could not be parsed)."""
    body: dict[str, object] = {
        "type": f"/problems/{problem.kind}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance is not None:
        body["instance"] = instance
    body |= problem.extra
    return web.Response(
        status=problem.status,
        body=orjson.dumps(body),
        content_type=PROBLEM_JSON,
        headers=EVERY_RESPONSE | problem.headers,
    )


def _from_http_exception(exc: web.HTTPException) -> Problem:
    kind = exc.reason.lower().replace(" ", "-")
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    if exc.status == 413:
        detail = f"the request body is larger than the limit; {detail}"
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    return Problem(exc.status, kind, exc.reason, detail, headers)


def job_not_found(job_id: str) -> Problem:
    detail = f"no job with id {job_id[:200]!r} (unknown, or expired after RESULT_TTL)"
    return Problem(404, "job-not-found", "Not Found", detail)


UNAVAILABLE_PROBLEM = Problem(
    503,
    "redis-unavailable",
    "Service Unavailable",
    "the job store (Redis) is not reachable; nothing was changed, try again shortly",
    {"Retry-After": "2"},
)

# maxmemory reached with noeviction (compose.yaml): Redis refuses whatever may grow memory, so a
# command that writes was refused before it wrote (a script at its first write). It lasts until
# jobs end and their records expire, or an operator frees memory: longer than an outage.
FULL_PROBLEM = Problem(
    503,
    "redis-full",
    "Service Unavailable",
    "the job store (Redis) is full (maxmemory) and refuses writes; nothing was written, try again later",
    {"Retry-After": "30"},
)

INTERNAL_PROBLEM = Problem(
    500, "internal-error", "Internal Server Error", "an unexpected error; it is logged on the server"
)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns every error into problem+json: ours, aiohttp's (404, 405, 413), Redis outages
    and a full Redis (503). Anything else is a bug: logged, and a 500 that leaks nothing.
    Every answer it passes on carries the security headers (app/api/headers.py)."""
    try:
        response = await handler(request)
        if not response.prepared:  # a stream sent its headers when it began (stream.py gives it them)
            response.headers.update(EVERY_RESPONSE)
        return response
    except Problem as problem:
        return problem_response(problem, request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(_from_http_exception(exc), request.path)
    except UNAVAILABLE as exc:
        log.warning("redis unavailable", extra={"path": request.path, "error": repr(exc)})
        return problem_response(UNAVAILABLE_PROBLEM, request.path)
    except FULL as exc:
        log.warning("redis full: write refused (maxmemory)", extra={"path": request.path, "error": repr(exc)})
        return problem_response(FULL_PROBLEM, request.path)
    except Exception:
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        return problem_response(INTERNAL_PROBLEM, request.path)
