"""A worker's own small HTTP port: /healthz (for container healthchecks) and /metrics."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from app.metrics import Metrics, metrics_response


def probe_app(is_healthy: Callable[[], bool], metrics: Metrics) -> web.Application:
    """A worker process's port: /healthz (200 while its heartbeat is current, else 503) and
    /metrics (its own counters, histograms and jobs in flight)."""

    async def render(request: web.Request) -> web.Response:
        return metrics_response(metrics)

    async def healthz(request: web.Request) -> web.Response:
        if is_healthy():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unhealthy", "detail": "heartbeat not written lately"}, status=503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", render)
    return app
