"""Security headers on every response of the API, and a Content-Security-Policy for the dashboard.

Every response: `X-Content-Type-Options: nosniff` (a browser never guesses a type from the
bytes, so a JSON body or a job's text is never run as HTML or script) and `Referrer-Policy:
no-referrer`. The dashboard's only requests go to its own origin, the API reads no Referer,
and the page links nowhere: nothing needs a referrer, so none is sent (the stricter choice;
a same-origin `fetch` still carries its `Origin`).

An HTML response (the dashboard, GET /) also gets a Content-Security-Policy: `default-src
'self'` and `frame-ancestors 'none'`; the page's inline <script> and <style> are allowed by
their SHA-256 hashes, computed at import from the very bytes ops serves (no 'unsafe-inline':
any other inline script, injected or edited in without its hash, is refused); `base-uri` and
`form-action` 'none', which `default-src` does not cover; and `X-Frame-Options: DENY` for
browsers older than `frame-ancestors`. Inline event handlers (`onclick=`) and `style=`
attributes are not allowed by hashes: the page has none, and must keep it so.

It is an on_response_prepare hook: it runs just before a response's headers are sent, so
problem+json errors and streamed responses (Server-Sent Events, whose headers go out when
the stream is prepared) carry the headers too. A handler that set one of them keeps its own.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

from aiohttp import web

from app.api.ops import DASHBOARD

EVERY_RESPONSE = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class _InlineBlocks(HTMLParser):
    """The text of each inline <script> (one without src) and <style>, as a browser hashes it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # script and style are raw text: nothing to convert
        self.blocks: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.blocks and not (tag == "script" and any(name == "src" for name, _ in attrs)):
            self._open, self._text = tag, []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self.blocks[tag].append("".join(self._text))
            self._open = None


def inline_hashes(page: bytes) -> dict[str, list[str]]:
    """CSP hash sources ('sha256-<base64>') of the page's inline scripts and styles."""
    # A browser's HTML parser turns CR LF and lone CR into LF before anything else.
    text = page.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    parser = _InlineBlocks()
    parser.feed(text)
    parser.close()
    return {
        tag: [f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'" for block in blocks]
        for tag, blocks in parser.blocks.items()
    }


def page_policy(page: bytes) -> str:
    """The page's Content-Security-Policy: its own origin, its own inline blocks, no framing."""
    hashes = inline_hashes(page)
    directives = [
        "default-src 'self'",
        "script-src " + (" ".join(hashes["script"]) or "'self'"),
        "style-src " + (" ".join(hashes["style"]) or "'self'"),
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


HTML_PAGE = {"Content-Security-Policy": page_policy(DASHBOARD), "X-Frame-Options": "DENY"}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The on_response_prepare hook (create_app registers it)."""
    for name, value in EVERY_RESPONSE.items():
        response.headers.setdefault(name, value)
    if response.content_type == "text/html":
        for name, value in HTML_PAGE.items():
            response.headers.setdefault(name, value)
