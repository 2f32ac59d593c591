"""A job's message as it travels on the queue: its codec, what a foreign producer may send, and what
the dead list keeps of one that cannot run. Pure, no I/O."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from enum import Enum
from typing import Final, TypeVar

import orjson

from app.options import NO_OPTIONS, InvalidOption, Options, parse_options
from app.queue.contract import DEFAULT_TENANT, JOB_ID_RE, TENANT_RE, TRACEPARENT_RE, Mode, Priority

E = TypeVar("E", bound=Enum)


@dataclass(frozen=True, slots=True)
class Message:
    """One job as it travels on the queue. (Its attempts are counted in its record, not
    here: a message's bytes stay the same through retries and recoveries.)"""

    id: str
    text: str
    enqueued_at: float = 0.0
    options: Options = NO_OPTIONS
    tenant: str = DEFAULT_TENANT
    expires_at: float = 0.0  # unix seconds after which it must not start; 0 = never
    priority: Priority = Priority.NORMAL
    meta: bytes = b""  # a foreign producer's own fields (a JSON object), given back in its record and events
    stream: bool = False  # stream the summary as it is written even with no event stream following yet
    mode: Mode = Mode.INTERACTIVE  # batch: collected into a Gemini batch job (app/batch/lane.py)
    budget_wait: bool = False  # a batch job over its tenant's daily budget waits for the next day, not fails
    trace: str = ""  # the W3C traceparent of the request that sent it: the worker's span is its child

    @property
    def lane(self) -> tuple[Priority, str]:
        return self.priority, self.tenant

    def encode(self) -> bytes:
        data: dict[str, object] = {"id": self.id, "text": self.text, "enqueued_at": self.enqueued_at}
        if self.options:
            data["options"] = self.options.to_dict()
        if self.tenant != DEFAULT_TENANT:
            data["tenant"] = self.tenant
        if self.expires_at:
            data["expires_at"] = self.expires_at
        if self.priority != Priority.NORMAL:
            data["priority"] = self.priority.value
        if self.meta:
            data["meta"] = orjson.Fragment(self.meta)
        if self.stream:
            data["stream"] = True
        if self.mode is not Mode.INTERACTIVE:
            data["mode"] = self.mode.value
        if self.budget_wait:
            data["over_budget"] = "wait"
        if self.trace:
            data["trace"] = self.trace
        return orjson.dumps(data)

    def expired(self, now: float) -> bool:
        return 0 < self.expires_at < now


class PoisonMessage(ValueError):
    """A queue message no worker can run; the reason goes to the dead list. `oversized`:
    refused for its size, so only its head is worth keeping there."""

    def __init__(self, reason: str, *, oversized: bool = False) -> None:
        super().__init__(reason)
        self.oversized = oversized


def new_job_id() -> str:
    """32 random hex digits, as uuid4().hex but without building a UUID (a job id per request)."""
    return os.urandom(16).hex()


def new_message(
    text: str,
    options: Options = NO_OPTIONS,
    tenant: str = DEFAULT_TENANT,
    expires_in: float = 0.0,
    priority: Priority = Priority.NORMAL,
    *,
    stream: bool = False,
    mode: Mode = Mode.INTERACTIVE,
    budget_wait: bool = False,
    trace: str = "",
) -> Message:
    """A new job's message; `expires_in` seconds from now it may no longer start (0: never)."""
    now = time.time()
    expires_at = round(now + expires_in, 3) if expires_in > 0 else 0.0
    return Message(
        new_job_id(),
        text,
        now,
        options,
        tenant,
        expires_at,
        priority,
        stream=stream,
        mode=mode,
        budget_wait=budget_wait,
        trace=trace,
    )


# The fields a message may carry for us; any other field of a foreign producer's is its `meta`.
MESSAGE_FIELDS: Final = frozenset(
    {
        "id",
        "text",
        "enqueued_at",
        "options",
        "tenant",
        "expires_at",
        "priority",
        "meta",
        "stream",
        "mode",
        "over_budget",
        "trace",
    }
)


# An "attempt" field (written by earlier versions) is ignored: the record counts attempts.
IGNORED_FIELDS: Final = frozenset({"attempt"})


# A message held in its completed form (an id, enqueued_at and meta written in) may be a few hundred
# bytes longer than as first pushed: a consumer allows this much over the API's body limit, so a
# message that ran once never outgrows the limit on its next run.
COMPLETED_SLACK_BYTES: Final = 1024
# A foreign producer's own fields are kept up to this size (as JSON): correlation ids, not payloads.
META_MAX_BYTES: Final = 4096


def decode_message(raw: bytes, max_text_chars: int | None = None) -> tuple[Message, bool]:
    """Parse a queue message. Returns the message and whether it had to be completed (a
    foreign producer's `{"text": ...}` gets an id and defaults; a message that is not a JSON
    object is the text itself, as the original design's producer pushes it). Raises
    PoisonMessage with a reason when no job can be made of it, holding a foreign producer
    to the limits the API holds its clients to (MAX_TEXT_CHARS)."""
    raw = raw.removeprefix(_BOM)  # some producers (.NET, PowerShell) open UTF-8 with a byte order mark
    data = _json_object(raw)
    if data is None:
        return Message(new_job_id(), _checked_text(_plain_text(raw), max_text_chars), time.time()), True
    text = data.get("text")
    if not isinstance(text, str):
        raise PoisonMessage("no text: the message needs a non-empty string field 'text'")
    text = _checked_text(text, max_text_chars)
    job_id, enqueued_at = data.get("id"), data.get("enqueued_at")
    completed = False
    if job_id is None:
        job_id, completed = new_job_id(), True
    elif not isinstance(job_id, str) or not JOB_ID_RE.fullmatch(job_id):
        raise PoisonMessage(f"bad id {job_id!r}: expected 1-128 characters of [A-Za-z0-9._:-]")
    if not isinstance(enqueued_at, (int, float)) or isinstance(enqueued_at, bool):
        enqueued_at, completed = time.time(), True
    options, tenant, expires_at = (
        _options(data.get("options")),
        _tenant(data.get("tenant")),
        data.get("expires_at") or 0,
    )
    if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool) or not expires_at >= 0:
        raise PoisonMessage(f"bad expires_at {expires_at!r}: expected unix seconds (or 0 for never)")
    priority, mode, budget_wait = (
        _priority(data.get("priority")),
        _mode(data.get("mode")),
        _over_budget(data.get("over_budget")),
    )
    meta, stream = _meta(data), data.get("stream") or False
    if not isinstance(stream, bool):
        raise PoisonMessage(f"bad stream {stream!r}: expected true or false")
    trace = data.get("trace")
    if not isinstance(trace, str) or not TRACEPARENT_RE.fullmatch(trace):
        trace = ""  # a trace context is a hint: one that cannot be read starts a new trace, the job still runs
    message = Message(
        job_id,
        text,
        float(enqueued_at),
        options,
        tenant,
        float(expires_at),
        priority,
        meta,
        stream,
        mode,
        budget_wait,
        trace,
    )
    return message, completed


_BOM: Final = b"\xef\xbb\xbf"


def _json_object(raw: bytes) -> dict[str, object] | None:
    """The message's JSON object, or None for a message that is not one (plain text). Bytes
    that open as an object must be one: a broken JSON object is an error, not a text."""
    if not raw.lstrip(b" \t\r\n").startswith(b"{"):
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PoisonMessage(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PoisonMessage(f"not a JSON object but {type(data).__name__}")
    return data


def _plain_text(raw: bytes) -> str:
    """A message that is not a JSON object: a JSON string's value, else the bytes as UTF-8."""
    if raw.lstrip().startswith(b'"'):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, str):
            return value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoisonMessage(f"not UTF-8 text (and not a JSON object): {exc}") from None


def _checked_text(text: str, max_text_chars: int | None) -> str:
    if not text.strip():
        raise PoisonMessage("no text: the message needs a non-empty string field 'text' (or is blank)")
    if max_text_chars is not None and len(text) > max_text_chars:
        detail = f"text too long: {len(text)} characters; the limit is {max_text_chars} (MAX_TEXT_CHARS)"
        raise PoisonMessage(detail, oversized=True)
    return text


def _meta(data: dict[str, object]) -> bytes:
    """The producer's own fields as one JSON object: what it sent in `meta` (an object), and every
    field the contract does not know. Kept up to META_MAX_BYTES."""
    given = data.get("meta")
    meta = dict(given) if isinstance(given, dict) else {}
    meta |= {name: value for name, value in data.items() if name not in MESSAGE_FIELDS and name not in IGNORED_FIELDS}
    if given is not None and not isinstance(given, dict):  # a producer's own field that happens to be named so
        meta["meta"] = given
    if not meta:
        return b""
    encoded = orjson.dumps(meta)
    if len(encoded) > META_MAX_BYTES:
        detail = f"its own fields take {len(encoded)} bytes as meta; at most {META_MAX_BYTES} are kept: send an id"
        raise PoisonMessage(detail)
    return encoded


def _priority(raw: object) -> Priority:
    return _one_of(Priority, "priority", raw, Priority.NORMAL)


def _one_of(kind: type[E], name: str, raw: object, default: E) -> E:
    """An enum field of a message: absent means `default`; another value poisons the message."""
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        *others, last = (repr(member.value) for member in kind)
        allowed = f"{', '.join(others)} or {last}"
        raise PoisonMessage(f"bad {name} {raw!r}: expected {allowed}") from None


def _over_budget(raw: object) -> bool:
    if raw is None or raw == "fail":
        return False
    if raw == "wait":
        return True
    raise PoisonMessage(f"bad over_budget {raw!r}: expected 'fail' or 'wait'")


def _mode(raw: object) -> Mode:
    return _one_of(Mode, "mode", raw, Mode.INTERACTIVE)


def _tenant(raw: object) -> str:
    if raw is None:
        return DEFAULT_TENANT
    if not isinstance(raw, str) or not TENANT_RE.fullmatch(raw):
        raise PoisonMessage(f"bad tenant {raw!r}: expected 1-64 characters of [a-z0-9_-]")
    return raw


def _options(raw: object) -> Options:
    if raw is None:
        return NO_OPTIONS
    if not isinstance(raw, dict):
        raise PoisonMessage(f"bad options {raw!r}: expected a JSON object")
    try:
        return parse_options(raw)
    except InvalidOption as exc:
        raise PoisonMessage(f"bad options: {exc}") from None


# An oversized message is kept on the dead list only in part: enough to recognize it.
DEAD_MESSAGE_HEAD: Final = 4096


def dead_entry(raw: bytes, reason: str, job_id: str | None = None, *, head_only: bool = False) -> bytes:
    """What the dead list holds: the message as it was (its first bytes only, with
    `head_only`: one that was too big to run), why it died, and when."""
    entry: dict[str, object] = {"id": job_id, "reason": reason, "failed_at": time.time()}
    if head_only and len(raw) > DEAD_MESSAGE_HEAD:
        entry |= {"message": raw[:DEAD_MESSAGE_HEAD].decode("utf-8", "replace"), "message_bytes": len(raw)}
    else:
        entry["message"] = raw.decode("utf-8", "replace")
    return orjson.dumps(entry)
