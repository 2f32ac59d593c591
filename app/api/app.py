"""The HTTP API (aiohttp): accept texts, hand out job ids, answer with results."""

from __future__ import annotations

import orjson
from aiohttp import web

from app.api import ops, resources
from app.api.dashboard import dashboard
from app.api.edge import expect_handler
from app.api.intake import post_process
from app.api.jobs import cancel_job, get_job, list_jobs
from app.api.limits import capped_streams
from app.api.openapi import openapi_document
from app.api.problems import problem_middleware
from app.api.rates import Rates
from app.api.security import auth_middleware, cors_headers, cors_middleware
from app.api.stream import job_events
from app.api.trends import TRENDS, Trends
from app.config import Settings
from app.connection.factory import RedisFactory
from app.metrics import Metrics
from app.tenants import Tenants

ROUTES = (
    ("POST", "/process", post_process),
    ("GET", "/jobs/{job_id}", get_job),
    ("DELETE", "/jobs/{job_id}", cancel_job),
    ("GET", "/jobs/{job_id}/events", capped_streams(job_events)),  # at most MAX_EVENT_STREAMS open
    ("GET", "/stats", ops.stats),
    ("GET", "/jobs", list_jobs),
    ("GET", "/metrics", ops.metrics_text),
    ("GET", "/openapi.json", ops.openapi),
    ("GET", "/", dashboard),
    ("GET", "/healthz", ops.healthz),
    ("GET", "/readyz", ops.readyz),
)


def create_app(
    settings: Settings, redis_factory: RedisFactory | None = None, metrics: Metrics | None = None
) -> web.Application:
    """The aiohttp application; `redis_factory` lets ROLE=all share the embedded Redis with
    its worker, and `metrics` its registry."""
    # A middleware is a coroutine layer on every request: only those the settings ask for.
    tenants = Tenants.from_settings(settings)
    middlewares = [*([cors_middleware(settings)] if settings.cors_origins else []), problem_middleware]
    if tenants.required:
        middlewares.append(auth_middleware(settings, tenants))
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[resources.SETTINGS] = settings
    app[resources.TENANTS] = tenants
    app[resources.REDIS_FACTORY] = redis_factory or RedisFactory(settings)
    app[resources.METRICS] = metrics or Metrics()
    app[ops.RATES] = Rates()
    app[TRENDS] = Trends()
    app[ops.OPENAPI] = orjson.dumps(openapi_document(settings))
    # One context per resource, opened in this order and closed in the reverse.
    app.cleanup_ctx.extend([resources.redis_client, resources.result_hub, ops.totals_sampler])
    app.on_shutdown.append(resources.wake_waiters)
    if settings.cors_origins:
        app.on_response_prepare.append(cors_headers(settings))
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler, expect_handler=expect_handler)
    return app
