"""Health: a worker's own small HTTP port (/healthz), and `python -m app healthcheck` for
container HEALTHCHECKs, which asks the role's port and exits 0 (healthy) or 1."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Callable

from aiohttp import web

from app.config import Role, Settings
from app.metrics import CONTENT_TYPE, Metrics


def probe_app(is_healthy: Callable[[], bool], metrics: Metrics) -> web.Application:
    """A worker process's port: /healthz (200 while its heartbeat is current, else 503) and
    /metrics (its own counters, histograms and jobs in flight)."""

    async def render(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def healthz(request: web.Request) -> web.Response:
        if is_healthy():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unhealthy", "detail": "heartbeat not written lately"}, status=503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", render)
    return app


def healthcheck(settings: Settings) -> int:
    port = settings.metrics_port if settings.role is Role.WORKER else settings.port
    if port == 0:
        print("healthcheck: METRICS_PORT=0, so a worker serves no /healthz", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
