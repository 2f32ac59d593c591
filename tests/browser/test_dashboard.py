"""The dashboard at / in Debian's headless Chromium, driven by Playwright: load the page, see the
queue, submit a text and watch its summary arrive, all under the page's Content-Security-Policy with
no violation; the API key kept for the tab's session unless "remember this key" is ticked, and never
in a URL. The screenshot is kept in tests/artifacts/."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright, expect

from app.config import Settings
from app.model.summarizers.extractive import ExtractiveSummarizer
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.helpers import eventually
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


# Chromium reports a refused script or style on the console as "... violates the following
# Content Security Policy directive ...".
CSP = re.compile(r"content.security.policy", re.IGNORECASE)
UPDATED = re.compile(r"^updated ")  # not "not updated: ..."
# Each violation also fires a securitypolicyviolation event: recorded in the page, a second net.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
"""


@dataclass
class Watched:
    """What a page said on its console, threw, and asked for."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def csp_messages(self) -> list[str]:
        return [text for text in self.console if CSP.search(text)]


async def watched_page(context: BrowserContext) -> tuple[Page, Watched]:
    page = await context.new_page()
    watched = Watched()

    def on_console(message: ConsoleMessage) -> None:
        watched.console.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("request", lambda request: watched.urls.append(request.url))
    await page.add_init_script(RECORD_VIOLATIONS)
    return page, watched


async def assert_no_violations(page: Page, watched: Watched) -> None:
    assert watched.csp_messages() == [], watched.console
    assert await page.evaluate("window.__violations") == []
    assert watched.errors == []
    assert not any(KEY in url for url in watched.urls), watched.urls  # the key never goes in a URL


async def stored(page: Page) -> dict[str, list[str]]:
    """The values (not the names) in each of the page's storages."""
    values: dict[str, list[str]] = await page.evaluate(
        "({session: Object.values(sessionStorage), local: Object.values(localStorage)})"
    )
    return values


async def test_the_dashboard_shows_the_queue_and_streams_a_summary(
    start_service: StartService, settings: Settings, browser: Browser
) -> None:
    service = await start_service(with_(settings, api_keys=(f"admin:{KEY}",)), ExtractiveSummarizer())
    context = await browser.new_context(viewport={"width": 1200, "height": 1100})
    page, watched = await watched_page(context)
    await page.goto(str(service.client.make_url("/")))
    await expect(page.locator("#connection")).to_contain_text("not updated")  # no key yet: 401
    await page.fill("#key", KEY)
    await page.dispatch_event("#key", "change")
    await expect(page.locator("#connection")).to_contain_text("updated", timeout=5000)
    assert await stored(page) == {"session": [KEY], "local": []}  # "remember" is not ticked
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
    # The last hour's charts, drawn by the page: the job's latency (from its result event), what
    # waited and what was done (from the API's samples of the queue, every 5 s).
    for series in ("chart-latency [data-series=p50_s]", "chart-queue [data-series=queued]"):
        await expect(page.locator(f"#{series}")).to_have_count(1, timeout=15_000)
    done_drawn = (  # the done line leaves the baseline (y 115) once a sample after the job counts it
        "() => [...document.querySelectorAll('#chart-throughput [data-series=done]')]"
        ".some(l => l.getAttribute('points').split(' ').some(p => parseFloat(p.split(',')[1]) < 115))"
    )
    await page.wait_for_function(done_drawn, timeout=15_000)
    points = await page.locator("#chart-latency [data-series=p50_s]").get_attribute("points")
    assert points and all(0 <= float(v) <= 300 for xy in points.split() for v in xy.split(","))

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
    await assert_no_violations(page, watched)

    # The policy is enforced, and a violation would have been seen: an inline script without
    # the page's hash is refused, and reported on the console.
    await page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';"
        " document.body.append(s); }"
    )
    assert await page.evaluate("window.__ran === undefined")

    async def reported() -> bool:
        return bool(watched.csp_messages())

    await eventually(reported, 5.0, "a CSP violation on the console")
    assert await page.evaluate("window.__violations.length") > 0
    await context.close()


async def test_the_key_is_kept_for_the_tab_unless_remembered_and_an_old_stored_key_is_moved(
    start_service: StartService, settings: Settings, browser: Browser
) -> None:
    service = await start_service(with_(settings, api_keys=(f"admin:{KEY}",)), worker=False)
    url = str(service.client.make_url("/"))
    context = await browser.new_context()
    page, watched = await watched_page(context)
    await page.goto(url)
    # A key an earlier version kept in localStorage: moved to this tab's session, not kept for good.
    await page.evaluate(f"localStorage.setItem('summarize-api-key', {KEY!r})")
    await page.reload()
    await expect(page.locator("#connection")).to_have_text(UPDATED, timeout=5000)
    await expect(page.locator("#key")).to_have_value(KEY)
    await expect(page.locator("#remember")).not_to_be_checked()
    await expect(page.locator("#key-note")).to_contain_text("remember this key")
    assert await stored(page) == {"session": [KEY], "local": []}

    await page.check("#remember")
    assert await stored(page) == {"session": [], "local": [KEY]}
    # Another tab of the same browser finds it, ticked.
    second, second_watched = await watched_page(context)
    await second.goto(url)
    await expect(second.locator("#key")).to_have_value(KEY)
    await expect(second.locator("#remember")).to_be_checked()
    await expect(second.locator("#connection")).to_have_text(UPDATED, timeout=5000)

    await second.uncheck("#remember")  # forgotten by the browser, kept for that tab
    assert await stored(second) == {"session": [KEY], "local": []}
    third, third_watched = await watched_page(context)
    await third.goto(url)
    await expect(third.locator("#connection")).to_contain_text("not updated", timeout=5000)
    await expect(third.locator("#key")).to_have_value("")
    await expect(third.locator("#remember")).not_to_be_checked()
    assert await stored(third) == {"session": [], "local": []}
    for each, its in ((page, watched), (second, second_watched), (third, third_watched)):
        await assert_no_violations(each, its)
    await context.close()


async def test_the_dashboard_shows_what_waits_by_priority_and_cancels_a_queued_job(
    start_service: StartService, settings: Settings, browser: Browser
) -> None:
    service = await start_service(with_(settings, api_keys=(f"admin:{KEY}",)), worker=False)  # nothing runs
    context = await browser.new_context()
    page, watched = await watched_page(context)
    await page.goto(str(service.client.make_url("/")))
    await page.fill("#key", KEY)
    await page.dispatch_event("#key", "change")
    await expect(page.locator("#connection")).to_have_text(UPDATED, timeout=5000)
    await page.fill("#text", TEXT)
    await page.select_option("#priority", "high")
    await page.click("button[type=submit]")
    await expect(page.locator("#job")).to_contain_text("queued", timeout=5000)
    await expect(page.locator("#waiting")).to_contain_text("high 1 · normal 0 · low 0", timeout=5000)
    await expect(page.locator("#waiting")).to_contain_text("by tenant: admin 1")
    row = page.locator("#jobs tr").first
    await row.locator("button.cancel").click()
    await expect(row).to_contain_text("cancelled", timeout=5000)
    await expect(page.locator("#job")).to_contain_text("cancelled", timeout=5000)  # its event stream's ending
    [job] = (await (await service.client.get("/jobs", headers={"Authorization": f"Bearer {KEY}"})).json())["jobs"]
    assert job["status"] == "cancelled"
    await assert_no_violations(page, watched)
    await context.close()
