"""Security headers on every response of the API, and a Content-Security-Policy for the dashboard.

Every response: `X-Content-Type-Options: nosniff` (a browser never guesses a type from the
bytes, so a JSON body or a job's text is never run as HTML or script).

The page (GET /) also `Referrer-Policy: no-referrer`: the dashboard's only requests go to its own
origin, the API reads no Referer, and the page links nowhere, so none is sent (the stricter
choice; a same-origin `fetch` still carries its `Origin`). Only a document sends referrers, so
the JSON answers need no policy: one header less on every answer of the intake's hot path.

An HTML response (the dashboard, GET /) also gets a Content-Security-Policy: `default-src
'self'` and `frame-ancestors 'none'`; the page's inline <script> and <style> are allowed by
their SHA-256 hashes, computed at import from the very bytes ops serves (no 'unsafe-inline':
any other inline script, injected or edited in without its hash, is refused); `base-uri` and
`form-action` 'none', which `default-src` does not cover; and `X-Frame-Options: DENY` for
browsers older than `frame-ancestors`. Inline event handlers (`onclick=`) and `style=`
attributes are not allowed by hashes: the page has none, and must keep it so.

Where they are set: the problem middleware adds EVERY_RESPONSE to every response a handler
returns (and every problem), the event stream and the CORS preflight are given them when made,
and the edge's raw answers carry them; the dashboard's handler adds the page's own. (Not an
on_response_prepare hook: a signal dispatch per response cost the intake ~15 % of its rate.)
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

EVERY_RESPONSE = {"X-Content-Type-Options": "nosniff"}


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


def html_page_headers(page: bytes) -> dict[str, str]:
    """What the dashboard page is served with, besides EVERY_RESPONSE."""
    return {"Content-Security-Policy": page_policy(page), "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
