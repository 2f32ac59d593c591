"""The log line's safety: credentials redacted from every part of a record (app/redact.py, the
filter in app/logs.py), text fields escaped so no value starts a line, REDIS_URL masked."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import orjson
import pytest
from aiohttp.http_exceptions import BadHttpMessage, BadStatusLine

from app.logs import JsonFormatter, RedactingFilter, TextFormatter, escape_text, secrets_from_env, setup_logging
from app.redact import Redactor, mask_url, url_password

KEY = "k3y-" + "A1b2" * 6


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:secretpw@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://user:secretpw@host:6379/0", "redis://user:***@host:6379/0"),
        ("rediss://default:s%40cret@cache.example:6380/1", "rediss://default:***@cache.example:6380/1"),
        ("redis+sentinel://:pw@s1:26379,s2:26380/mymaster", "redis+sentinel://:***@s1:26379,s2:26380/mymaster"),
        ("redis+cluster://u:pw@a:7000,b:7001", "redis+cluster://u:***@a:7000,b:7001"),
        ("unix://:pw@/run/redis.sock?db=0", "unix://:***@/run/redis.sock?db=0"),
        ("redis://:p@ss/w:rd@host:6379/0", "redis://:***@host:6379/0"),  # unencoded @ and / in the password
        ("redis://onlyapassword@host", "redis://***@host"),
        ("redis://host:6379/0?password=pw&db=1", "redis://host:6379/0?password=***&db=1"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("redis+cluster://a:7000,b:7001", "redis+cluster://a:7000,b:7001"),
        ("http://x", "http://x"),
    ],
)
def test_mask_url_hides_the_password_and_keeps_the_rest(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_url_password_is_the_decoded_password() -> None:
    assert url_password("rediss://u:s%40cret@h:6380/0") == "s@cret"
    assert url_password("redis+sentinel://:pw@s1:26379/m") == "pw"
    assert url_password("redis://h:6379/0") is None
    assert url_password("redis://u:@h") is None


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("b'GET / HTTP/1.1\\r\\nAuthorization: Bearer tok-123456\\r\\nHost: x'", "tok-123456"),
        ("{'Proxy-Authorization': 'Basic dXNlcjpwYXNz', 'Host': 'x'}", "dXNlcjpwYXNz"),
        ("Cookie: session=abc123; theme=dark", "session=abc123"),
        ("Cookie: session=abc123; theme=dark", "dark"),
        ("Set-Cookie: id=zzz999", "zzz999"),
        ("x-api-key=abcdefgh1234 next=1", "abcdefgh1234"),
        ("b'  Bearer continuation-token'", "continuation-token"),
        ("error connecting to redis://user:hunter22@db:6379/0", "hunter22"),
        ("GET /jobs?password=hunter22&x=1", "hunter22"),
    ],
)
def test_the_redactor_blanks_credentials_by_shape(text: str, secret: str) -> None:
    cleaned = Redactor().redact(text)
    assert secret not in cleaned
    assert "***" in cleaned


def test_the_redactor_blanks_known_secrets_in_the_forms_text_carries_them() -> None:
    odd = "quote'and\\slash-12345"
    redactor = Redactor([KEY, odd, "short"])
    assert redactor.redact(f"Bad status line 'GET / HTTP/1.1 {KEY}'") == "Bad status line 'GET / HTTP/1.1 ***'"
    assert KEY not in redactor.redact(f"GET /x?k={KEY}")
    for form in (odd, repr(odd), repr(odd.encode()), "quote%27and%5Cslash-12345"):
        assert redactor.redact(f"<{form}>").count("***") == 1, form
    assert redactor.redact("a short word") == "a short word"  # too short to redact by value


def record(msg: str, *args: object, exc: BaseException | None = None, **extra: object) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    made = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, msg, args or None, exc_info)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def scrubbed(made: logging.LogRecord, *secrets: str) -> logging.LogRecord:
    assert RedactingFilter(Redactor(secrets)).filter(made) is True
    return made


def both_formats(made: logging.LogRecord) -> str:
    return TextFormatter().format(made) + "\n" + JsonFormatter().format(made)


def test_the_filter_scrubs_message_arguments_fields_and_traceback() -> None:
    try:
        raise RuntimeError(f"upstream said: Authorization: Bearer {KEY}")
    except RuntimeError as caught:
        exc = caught
    made = scrubbed(
        record(
            "request from %s with %r",
            "1.2.3.4",
            {"Authorization": f"Bearer {KEY}"},
            exc=exc,
            headers={"Cookie": f"s={KEY}", "n": 1},
            raw=f"X-Api-Key: {KEY}".encode(),
            seen=[f"Bearer {KEY}"],
            count=3,
        ),
        KEY,
    )
    out = both_formats(made)
    assert KEY not in out
    assert "request from 1.2.3.4" in out and "RuntimeError: upstream said" in out
    assert made.count == 3


def test_a_parse_error_is_logged_without_the_bytes_it_quotes() -> None:
    """aiohttp.server's "Error handling request" with the parser's exception: its message quotes
    the request; the record keeps what went wrong (status, error, reason) and drops the rest."""
    for exc in (
        BadHttpMessage(f"Invalid header value char:\n\n    b'Authorization: Bearer\\r\\n {KEY}\\x01'\n     ^"),
        BadStatusLine(f"GET / HTTP/1.1 {KEY}"),
    ):
        made = scrubbed(record("Error handling request from %s", "127.0.0.1", exc=exc))  # the key unknown
        out = both_formats(made)
        assert KEY not in out and "Traceback" not in out
        assert (made.status, made.error) == (400, type(exc).__name__)
        assert made.reason in ("Invalid header value char", "Bad status line")


def test_unformattable_arguments_are_still_scrubbed() -> None:
    made = scrubbed(record("two %s %s", f"Bearer {KEY}"), KEY)
    assert KEY not in str(made.msg) + str(made.args)


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"])
def test_text_format_escapes_control_characters_in_the_message_and_every_field(char: str) -> None:
    made = record(f"path /x{char}forged", path=f"/x{char}forged=1 level=ERROR", other=char)
    line = TextFormatter().format(made)
    assert len(line.splitlines()) == 1 and char not in line
    assert ' path="/x\\' in line and 'forged=1 level=ERROR"' in line  # quoted: not a field of its own


def test_text_format_quotes_what_is_not_one_word_and_leaves_the_rest_bare() -> None:
    line = TextFormatter().format(record("m", job_id="abc-1", fix='set "X" to 1\\2', empty="", n=5))
    assert line.endswith(' job_id=abc-1 fix="set \\"X\\" to 1\\\\2" empty="" n=5')


def test_text_format_indents_a_traceback_and_escapes_it() -> None:
    try:
        raise ValueError("bad\r\n12:00:00.000 ERROR   app: forged\u2028")
    except ValueError as caught:
        exc = caught
    lines = TextFormatter().format(record("failed", exc=exc)).splitlines()
    assert lines[0].endswith("aiohttp.server: failed")
    assert all(line.startswith("    ") for line in lines[1:])
    assert lines[-2].endswith("ValueError: bad\\r")  # \r escaped; its \n is a line of the traceback, indented
    assert lines[-1] == "    12:00:00.000 ERROR   app: forged\\u2028"


def test_escape_text() -> None:
    assert escape_text("a\nb\rc\td\x00e\x9ff\u2028g") == "a\\nb\\rc\\td\\u0000e\\u009ff\\u2028g"
    assert escape_text("plain ünïcode ✓") == "plain ünïcode ✓"


@pytest.mark.parametrize("char", ["\n", "\r", "\x00", "\x1b", "\x85", "\u2028", "\u2029"])
def test_json_format_is_one_line_for_any_reader_and_keeps_the_value(char: str) -> None:
    made = record(f"m{char}", path=f"/x{char}y")
    line = JsonFormatter().format(made)
    assert len(line.splitlines()) == 1
    entry = orjson.loads(line)
    assert (entry["event"], entry["path"]) == (f"m{char}", f"/x{char}y")


def test_secrets_from_env() -> None:
    env = {
        "API_KEYS": f" {KEY}, acme:{KEY}-acme ",
        "GEMINI_API_KEY": "AIza-gemini-key",
        "REDIS_URL": "redis://:s%40cretpw@h:6379/0",
    }
    assert sorted(secrets_from_env(env)) == sorted(
        [KEY, f"acme:{KEY}-acme", f"{KEY}-acme", "AIza-gemini-key", "s@cretpw"]
    )
    assert secrets_from_env({}) == []


@pytest.fixture
def restore_root() -> Iterator[None]:
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    handlers, level, access_level = root.handlers[:], root.level, access.level
    yield
    root.handlers[:] = [h for h in handlers if not type(h).__module__.startswith("_pytest")]
    root.setLevel(level)
    access.setLevel(access_level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_setup_logging_redacts_whatever_logger_writes(
    fmt: str, restore_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_KEYS", KEY)
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2-redis@h:6379/0")
    buffer = io.StringIO()
    setup_logging(logging.INFO, fmt, stream=buffer)
    logging.getLogger("redis.whatever").warning("lost %s (key %s)", "redis://:hunter2-redis@h:6379/0", KEY)
    logging.getLogger("app.x").info("plain", extra={"url": "rediss://u:hunter2-redis@h"})
    out = buffer.getvalue()
    assert "hunter2-redis" not in out and KEY not in out
    assert len(out.splitlines()) == 2
    assert sys.stderr is not buffer
