"""The dashboard at / in Debian's headless Chromium, driven by Playwright: load the page, see the
queue, submit a text and watch its summary arrive. The screenshot is kept in tests/artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from app.config import Settings
from app.model.summarizers.extractive import ExtractiveSummarizer
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.redis_server import require_binary

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
KEY = "dashboard-key-0123456789"
TEXT = (
    "Redis is an in-memory data store. It is often used as a cache and as a message broker. "
    "Lists make simple queues, and Pub/Sub announces events. Many job queues are built on it."
)
# As the machine's probe starts it: without the background-networking flags Chromium keeps
# trying to reach Google's hosts through a closed network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium") or require_binary("chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        yield launched
        await launched.close()


async def test_the_dashboard_shows_the_queue_and_streams_a_summary(
    start_service: StartService, settings: Settings, browser: Browser
) -> None:
    service = await start_service(with_(settings, api_keys=(KEY,)), ExtractiveSummarizer())
    page = await browser.new_page(viewport={"width": 1200, "height": 1100})
    await page.goto(str(service.client.make_url("/")))
    await expect(page.locator("#connection")).to_contain_text("not updated")  # no key yet: 401
    await page.fill("#key", KEY)
    await page.dispatch_event("#key", "change")
    await expect(page.locator("#connection")).to_contain_text("updated", timeout=5000)
    await expect(page.locator("#workers tr")).to_have_count(1)
    await expect(page.locator("#workers")).to_contain_text("alive")

    await page.fill("#text", TEXT)
    await page.select_option("#format", "bullets")
    await page.click("button[type=submit]")
    await expect(page.locator("#meta")).to_contain_text("done by extractive-textrank", timeout=10_000)
    summary = await page.locator("#output").text_content()
    assert summary and summary.startswith("- ")  # the bullets option reached the summarizer
    assert summary.replace("- ", "").split("\n")[0] in TEXT
    await expect(page.locator("#jobs tr").first).to_contain_text("done", timeout=5000)
    await expect(page.locator("#rate-enqueued")).not_to_have_text("\u2013", timeout=5000)  # the placeholder dash

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
