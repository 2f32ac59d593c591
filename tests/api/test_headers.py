"""Security headers: nosniff on every response (the page, JSON, problems, event
streams); the dashboard's Content-Security-Policy allows its own inline blocks by hash, and nothing
inline besides."""

from __future__ import annotations

import base64
import hashlib
import re

import orjson
import pytest
from aiohttp import ClientResponse

from app.api.dashboard import DASHBOARD
from app.config import Settings
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.helpers import read_events

KEY = "headers-key-0123456789"
EVERY_RESPONSE = {"X-Content-Type-Options": "nosniff"}
PAGE_ONLY = ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy")


def assert_api_headers(response: ClientResponse) -> None:
    """What every response carries, and that the page's own headers stay on the page."""
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.getall(name, []) == [value], (name, response.url)
    for name in PAGE_ONLY:
        assert name not in response.headers, (name, response.url)


def policy(response: ClientResponse) -> dict[str, list[str]]:
    [header] = response.headers.getall("Content-Security-Policy")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def page_hashes(tag: str) -> list[str]:
    """Computed here independently of app/api/headers.py: the page has LF line ends and no
    <script src> (asserted), so each inline block is the text between its tags."""
    page = DASHBOARD.decode()
    assert "\r" not in page and "<script src" not in page
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
    assert blocks
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks]


async def test_the_dashboard_has_a_policy_that_allows_its_own_inline_blocks_and_nothing_else(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(with_(settings, api_keys=(KEY,)), worker=False)
    response = await service.client.get("/")
    assert response.status == 200 and response.content_type == "text/html"
    assert await response.read() == DASHBOARD
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.getall(name) == [value]
    assert response.headers.getall("X-Frame-Options") == ["DENY"]
    assert response.headers.getall("Referrer-Policy") == ["no-referrer"]
    directives = policy(response)
    assert directives == {
        "default-src": ["'self'"],
        "script-src": page_hashes("script"),
        "style-src": page_hashes("style"),
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_the_page_has_nothing_inline_that_a_hash_cannot_allow() -> None:
    """Event-handler attributes, style attributes and javascript: URLs would be refused under
    the policy (hashes do not cover them): the page must not use them."""
    page = DASHBOARD.decode()
    assert not re.search(r"<[^>]*\s(on[a-z]+|style)\s*=", page, re.IGNORECASE)
    assert "javascript:" not in page.lower()


async def test_json_answers_carry_the_headers_but_no_page_policy(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings, worker=False)
    for path in ("/stats", "/jobs?limit=5", "/healthz", "/openapi.json"):
        response = await service.client.get(path)
        assert response.status == 200 and response.content_type == "application/json", path
        assert_api_headers(response)
    accepted = await service.client.post("/process", json={"text": "A text."})
    assert accepted.status == 202
    assert_api_headers(accepted)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/jobs/0123456789abcdef0123456789abcdef", None, 404),  # job-not-found, raised by a handler
        ("GET", "/no/such/path", None, 404),  # aiohttp's own, made a problem by the middleware
        ("DELETE", "/process", None, 405),
        ("GET", "/stats", None, 401),  # the auth middleware, before any handler
        ("POST", "/process", b"{not json", 400),
        ("GET", "/jobs?limit=1000", None, 400),
    ],
)
async def test_problems_carry_the_headers(
    start_service: StartService, settings: Settings, method: str, path: str, body: bytes | None, status: int
) -> None:
    service = await start_service(with_(settings, api_keys=(KEY,)), worker=False)
    headers = {} if status == 401 else {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    response = await service.client.request(method, path, data=body, headers=headers)
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    assert_api_headers(response)


async def test_an_event_stream_carries_the_headers_and_still_streams(
    start_service: StartService, settings: Settings
) -> None:
    service = await start_service(settings)
    accepted = await service.client.post("/process", json={"text": "A text about streams."})
    job_id = (await accepted.json())["id"]
    async with service.client.get(f"/jobs/{job_id}/events") as response:
        assert response.status == 200 and response.content_type == "text/event-stream"
        assert_api_headers(response)
        received = await read_events(response)
    assert received[-1].event == "done" and received[-1].id == "end"
    assert orjson.loads(received[-1].data)["status"] == "done"


async def test_an_open_event_stream_sent_the_headers_before_its_first_event(
    start_service: StartService, settings: Settings
) -> None:
    """No worker: the job stays queued, the stream stays open with nothing sent but its head,
    which already carries the headers (the hook runs when the stream is prepared)."""
    service = await start_service(settings, worker=False)
    accepted = await service.client.post("/process", json={"text": "A text nobody summarizes."})
    job_id = (await accepted.json())["id"]
    async with service.client.get(f"/jobs/{job_id}/events") as response:
        assert response.status == 200 and response.content_type == "text/event-stream"
        assert_api_headers(response)
        assert not response.content.is_eof()
