"""GET /: the dashboard, one static page (no build step, nothing from the internet), read once
at import and served with its Content-Security-Policy."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from app.api.headers import EVERY_RESPONSE, html_page_headers

DASHBOARD = resources.files("app.api.static").joinpath("dashboard.html").read_bytes()
HEADERS = EVERY_RESPONSE | html_page_headers(DASHBOARD)


async def dashboard(request: web.Request) -> web.Response:
    return web.Response(body=DASHBOARD, content_type="text/html", charset="utf-8", headers=HEADERS)
