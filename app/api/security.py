"""API keys (API_KEYS, Bearer, compared in constant time) and CORS (CORS_ORIGINS), as middlewares."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.api.problems import Handler, Problem
from app.config import Settings

# Always open: probes, the API's own description and the dashboard's page (its calls carry the key).
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/"})
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"
CORS_EXPOSED = "Location, Retry-After"


def _key_matches(presented: bytes, keys: tuple[bytes, ...]) -> bool:
    # Every key is compared, each in constant time: neither which key nor how much of one
    # matched shows in the timing.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key)
    return matched


def _as_bytes(presented: str) -> bytes:
    """The key as sent. aiohttp keeps bytes that are not UTF-8 as lone surrogates, which
    no key holds (keys are printable): such a value is simply no key, b""."""
    try:
        return presented.encode()
    except UnicodeEncodeError:
        return b""


def auth_middleware(settings: Settings) -> web.middleware:  # type: ignore[valid-type]
    keys = tuple(key.encode() for key in settings.api_keys)
    open_paths = OPEN_PATHS if settings.metrics_auth else OPEN_PATHS | {"/metrics"}

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not keys or request.path in open_paths or request.path.startswith("/static/") or request.method == "OPTIONS":
            return await handler(request)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not _key_matches(_as_bytes(presented.strip()), keys):
            detail = "send an API key as 'Authorization: Bearer <key>' (one of API_KEYS)"
            if scheme:
                detail = "the API key is not valid: " + detail
            raise Problem(401, "unauthorized", "Unauthorized", detail, {"WWW-Authenticate": 'Bearer realm="summarize"'})
        return await handler(request)

    return auth


def cors_middleware(settings: Settings) -> web.middleware:  # type: ignore[valid-type]
    """Answers preflights; cors_headers (on_response_prepare) marks the responses."""
    allowed = _allowed(settings)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers and allowed(origin):
            response = web.Response(status=204)  # a preflight: answered here, never routed or authenticated
            response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
            return response
        return await handler(request)

    return cors


def cors_headers(settings: Settings) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An on_response_prepare hook: every response to an allowed origin says so, streamed
    ones (Server-Sent Events) too, since it runs just before the headers are sent."""
    allowed = _allowed(settings)

    async def mark(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
            response.headers.add("Vary", "Origin")

    return mark


def _allowed(settings: Settings) -> Callable[[str | None], bool]:
    origins = frozenset(settings.cors_origins)
    return lambda origin: origin is not None and ("*" in origins or origin in origins)
