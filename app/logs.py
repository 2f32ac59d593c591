"""Structured logging: one line per event, its fields as key=value on a terminal or JSON in containers.

Every record goes through `RedactingFilter` on the way out, whichever logger wrote it (ours,
aiohttp's, redis-py's): credentials are scrubbed from its message, arguments, extra fields and
traceback (app/redact.py), and a request aiohttp could not parse is logged without the bytes
its parser quotes. In text format every value is escaped, so a field (a request path with %0a
in it) cannot start a line of its own; JSON escapes them by construction.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TextIO

import orjson

from app.redact import Redactor, url_password

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


# Characters that end or fake a line somewhere (a terminal, `str.splitlines`, a log viewer):
# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\u{ord(char):04x}"


def escape_text(text: str) -> str:
    """`text` on one line: every control character (and U+2028/2029) as an escape."""
    return _CONTROL.sub(_escape_control, text)


_NEEDS_QUOTES = re.compile('[\\s="\\\\\x00-\x1f\x7f-\x9f\u2028\u2029]')


def text_value(value: object) -> str:
    """A field's value for a key=value line (logfmt): bare when it is one plain word,
    otherwise in double quotes with backslash, quote and control characters escaped, so
    neither a new line nor a forged `key=value` can come out of it."""
    text = str(value)
    if text and not _NEEDS_QUOTES.search(text):
        return text
    return '"' + escape_text(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}"
        fields = " ".join(f"{k}={text_value(v)}" for k, v in _fields(record).items())
        head = f"{stamp} {record.levelname:<7} {escape_text(record.name)}: {escape_text(record.getMessage())}"
        line = head + (f" {fields}" if fields else "")
        trace = _exception_text(self, record)
        if trace:  # indented, and each of its lines escaped: no line of it passes for a record
            line += "".join(f"\n    {escape_text(part)}" for part in trace.split("\n"))
        return line


# orjson escapes C0 controls, as JSON requires; these it writes as they are, and a reader
# that splits lines the way Python's str.splitlines does would break a record on them.
_JSON_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        trace = _exception_text(self, record)
        if trace:
            entry["exc"] = trace
        return orjson.dumps(entry, default=str).decode().translate(_JSON_LINE_BREAKS)


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The record's traceback: the scrubbed text the filter left (exc_text), or formatted here."""
    if record.exc_text:
        return record.exc_text
    if record.exc_info:
        return formatter.formatException(record.exc_info)
    return None


def _is_parse_error(exc: BaseException | None) -> bool:
    """aiohttp's HttpProcessingError (BadHttpMessage, BadStatusLine, LineTooLong...): its
    message quotes the bytes received, credentials and all. Found by name, so that logging
    does not import aiohttp."""
    return any(
        cls.__name__ == "HttpProcessingError" and cls.__module__.startswith("aiohttp.") for cls in type(exc).__mro__
    )


def _parse_error_reason(exc: BaseException) -> str:
    """The parser's complaint without the bytes it quotes ("Invalid header value char")."""
    message = str(getattr(exc, "message", "") or "").strip()
    first = message.splitlines()[0] if message else ""
    return re.split(r"[:'\"]", first, maxsplit=1)[0].strip() or type(exc).__name__


class RedactingFilter(logging.Filter):
    """On a handler: scrubs each record of credentials before it is formatted (and so before
    any output). Always passes the record on."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        self._message(record)
        self._exception(record)
        for key, value in _fields(record).items():
            cleaned = self._value(value)
            if cleaned is not value:
                setattr(record, key, cleaned)
        return True

    def _message(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: the handler reports it, with msg and args
            record.msg = self.redactor.redact(str(record.msg))
            record.args = tuple(self._value(arg) for arg in record.args) if isinstance(record.args, tuple) else None
            return
        cleaned = self.redactor.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None

    def _exception(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _is_parse_error(exc):
            # A request aiohttp could not parse (logged by aiohttp.server on a port without
            # our edge handler): what went wrong, not the bytes, nor a traceback through the parser.
            record.exc_info, record.exc_text = None, None
            for key, value in (("error", type(exc).__name__), ("status", getattr(exc, "code", 400))):
                if not hasattr(record, key):
                    setattr(record, key, value)
            if not hasattr(record, "reason"):
                record.reason = self.redactor.redact(_parse_error_reason(exc))
            return
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)

    def _value(self, value: object) -> object:
        """`value` itself when nothing in it is secret, else a scrubbed copy."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            cleaned = self.redactor.redact(value)
            return value if cleaned == value else cleaned
        if isinstance(value, dict):
            items = {k: self._value(v) for k, v in value.items()}
            return value if all(items[k] is v for k, v in value.items()) else items
        if isinstance(value, list | tuple | set | frozenset):
            values = [self._value(v) for v in value]
            return value if all(a is b for a, b in zip(values, value, strict=True)) else values
        text = str(value)  # bytes, an exception, any object: scrubbed as the formatter would print it
        cleaned = self.redactor.redact(text)
        return value if cleaned == text else cleaned


def secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """The secrets a process is given in its environment, to redact wherever they appear:
    the API keys (each "key" or "tenant:key"), GEMINI_API_KEY, and REDIS_URL's password."""
    secrets = []
    for entry in env.get("API_KEYS", "").split(","):
        entry = entry.strip()
        secrets += [entry, entry.partition(":")[2]] if ":" in entry else [entry]
    secrets.append(env.get("GEMINI_API_KEY", "").strip())
    secrets.append(url_password(env.get("REDIS_URL", "").strip()) or "")
    return [secret for secret in secrets if secret]


_redactor = Redactor()


def add_secrets(secrets: Iterable[str]) -> None:
    """Redact these values too from now on (e.g. keys read from a file after logging started)."""
    _redactor.add(secrets)


def setup_logging(
    level: int, fmt: str, *, secrets: Iterable[str] | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """One handler on the root logger, writing `fmt` (text or json) to `stream` (stderr),
    that redacts credentials and `secrets` (by default the environment's: secrets_from_env)."""
    add_secrets(secrets_from_env(os.environ) if secrets is None else secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(_redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log is one line per request: noise at this rate, and not ours.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return handler
