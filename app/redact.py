"""Keeping secrets out of what the service prints: a URL's password masked, and free text
(a log record's message, a traceback, an error) scrubbed of credentials.

`mask_url` is for a URL we print on purpose (REDIS_URL in an error). `Redactor` is for text
that may quote a request or a URL by accident: the values of credential headers, Bearer
tokens, the password in any scheme://user:password@ URL, and secrets known by value (the
API keys) in the forms a traceback or a log field may carry them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

MASK = "***"

# Fewer characters than this are not redacted by value: "redact every 'abc'" would blank
# ordinary words. Such a secret is still masked where it has a shape (header, URL, Bearer).
MIN_SECRET_CHARS = 6

# A query parameter of a URL whose value is a credential (redis-py takes ?password=).
_SECRET_PARAM = re.compile(r"(?i)([?&;][^=&;#\s]*(?:pass|secret|token|auth)[^=&;#\s]*=)[^&;#\s'\"]*")

# The value of a credential header as it appears in a log: "Authorization: Bearer x" in a
# request the parser quotes, "'Cookie': 'a=1; b=2'" in a dict's repr, "x-api-key=..." in a
# key=value line. The value runs to the end of the line, a quote, or a backslash (an escape
# in a repr, such as the \r\n after the header).
_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|(?:set-)?cookie|x-api-key|api[-_]key)(['\"]?\s*[:=]\s*['\"]?)[^\r\n'\"\\]*"
)
# A token in an Authorization header's shape, wherever it is (a parser's message may quote
# "Bearer <token>" without the header's name, e.g. when the line was folded).
_SCHEME_TOKEN = re.compile(r"(?i)\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=:-]{6,}")
# scheme://user:password@ (redis://:pw@host, rediss://user:pw@host, https://u:p@...).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:'\"]*):[^\s/'\"]+@")


def mask_url(url: str) -> str:
    """`url` with its password (and any password-like query parameter) replaced by ***:
    redis://:pw@h:6379/0 -> redis://:***@h:6379/0, rediss://user:pw@h -> rediss://user:***@h,
    the same for redis+sentinel:// and redis+cluster:// (whose host part lists several hosts)
    and unix://. A user part without a colon (redis://secret@h) is masked whole: redis-py
    would send it as a name, but a password written there by mistake must not be printed."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, at, hosts = rest.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}:{MASK}@{hosts}" if colon else f"{MASK}@{hosts}"
    rest = _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, rest)
    return f"{scheme}{sep}{rest}"


def url_password(url: str) -> str | None:
    """The password in `url`'s user part, if it has one (percent-decoded)."""
    rest = url.partition("://")[2] or url
    userinfo, at, _ = rest.rpartition("@")
    if not at:
        return None
    user, colon, password = userinfo.partition(":")
    secret = password if colon else user
    return unquote(secret) or None


def _forms(secret: str) -> set[str]:
    """`secret` as it may appear in text: itself, inside a str's or a bytes' repr, percent-encoded."""
    forms = {secret, repr(secret)[1:-1], quote(secret, safe=""), repr(secret.encode(errors="backslashreplace"))[2:-1]}
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Redactor:
    """Scrubs text of credentials by shape, and of the secrets it was given by value."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._known: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_CHARS:
                self._secrets |= _forms(secret)
        if self._secrets:  # the longest first, so a key that contains another goes whole
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._known = re.compile("|".join(re.escape(form) for form in alternatives))

    def redact(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(MASK, text)
        if "://" in text:
            text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
        if "=" in text:
            text = _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, text)
        text = _HEADER.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
        return _SCHEME_TOKEN.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
