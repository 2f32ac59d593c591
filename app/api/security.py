"""API keys (API_KEYS, Bearer, compared in constant time; each names a tenant) and CORS (CORS_ORIGINS)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.api.headers import EVERY_RESPONSE
from app.api.problems import Handler, Problem
from app.api.resources import TENANTS
from app.config import Settings
from app.tenants import Tenant, Tenants

# Always open: probes, the API's own description and the dashboard's page (its calls carry the key).
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/"})
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"
CORS_EXPOSED = "Location, Retry-After, RateLimit, RateLimit-Policy"


# The tenant a request acts for (set by the auth middleware; read with `tenant_of`).
TENANT = web.RequestKey("tenant", Tenant)


def tenant_of(request: web.Request) -> Tenant:
    """Who the request acts for: its key's tenant, or with no API_KEYS the open service's one user."""
    tenant = request.get(TENANT)
    if tenant is not None:
        return tenant
    tenants = request.app[TENANTS]
    if tenants.required:  # a route left open by mistake must not act as the admin
        raise Problem(401, "unauthorized", "Unauthorized", "this route needs an API key", _CHALLENGE)
    return tenants.open


def _as_bytes(presented: str) -> bytes:
    """The key as sent. aiohttp keeps bytes that are not UTF-8 as lone surrogates, which
    no key holds (keys are printable): such a value is simply no key, b""."""
    try:
        return presented.encode()
    except UnicodeEncodeError:
        return b""


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="summarize"'}


def auth_middleware(settings: Settings, tenants: Tenants) -> web.middleware:  # type: ignore[valid-type]
    """Every route but the open ones needs `Authorization: Bearer <key>`; the key names the tenant."""
    open_paths = OPEN_PATHS if settings.metrics_auth else OPEN_PATHS | {"/metrics"}

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in open_paths or request.method == "OPTIONS":
            return await handler(request)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        tenant = tenants.identify(_as_bytes(presented.strip())) if scheme.lower() == "bearer" else None
        if tenant is None:
            detail = "send an API key as 'Authorization: Bearer <key>' (one of API_KEYS)"
            if scheme:
                detail = "the API key is not valid: " + detail
            raise Problem(401, "unauthorized", "Unauthorized", detail, _CHALLENGE)
        request[TENANT] = tenant
        return await handler(request)

    return auth


def cors_middleware(settings: Settings) -> web.middleware:  # type: ignore[valid-type]
    """Answers preflights; cors_headers (on_response_prepare) marks the responses."""
    allowed = _allowed(settings)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers and allowed(origin):
            response = web.Response(status=204, headers=EVERY_RESPONSE)  # a preflight: never routed or authenticated
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
    # "null" (a sandboxed frame, a file: page, a redirect) is anyone's origin: never allowed.
    return lambda origin: origin is not None and origin != "null" and ("*" in origins or origin in origins)
