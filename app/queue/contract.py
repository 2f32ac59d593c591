"""The Redis wire contract: key names, the message and event codec, job status. Pure, no I/O."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import orjson

from app.options import NO_OPTIONS, InvalidOption, Options, parse_options

# A job id other producers may choose: printable, no spaces, short enough to be a key.
JOB_ID_RE: Final = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
# A tenant's name (app/tenants.py): a message without one belongs to DEFAULT_TENANT.
TENANT_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DEFAULT_TENANT: Final = "default"


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # not started before its expiry: ended without a model call
    CANCELLED = "cancelled"  # called back by its client (DELETE /jobs/{id}): ended, never (again) run

    @property
    def final(self) -> bool:
        return self in (Status.DONE, Status.FAILED, Status.EXPIRED, Status.CANCELLED)


class Priority(StrEnum):
    """Which lane a job waits in: a worker starts the most urgent waiting job (app/queue/lua/reserve.lua)."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# Most urgent first: the order in which reserve.lua serves the lanes.
PRIORITIES: Final = (Priority.HIGH, Priority.NORMAL, Priority.LOW)
# While low-priority work waits, at least one start in this many is a low job: the bound on
# its starvation under a flood of more urgent work.
LOW_SHARE_EVERY: Final = 20
# What a producer into a lane other than the queue list pushes onto the (empty) queue list so a
# worker blocked on it (BLMOVE) wakes and looks at every lane. It is no job: reserve drops it.
WAKE: Final = b'{"wake":1}'


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key of one queue. All but the queue list carry the hash tag {queue}
    so multi-key scripts stay in one slot (and run on Redis Cluster); the queue
    list's own name hashes to that same slot."""

    queue: str
    channel: str

    @property
    def tag(self) -> str:
        return "{" + self.queue + "}"

    @property
    def workers(self) -> str:
        return f"{self.tag}:workers"

    @property
    def delayed(self) -> str:
        return f"{self.tag}:delayed"

    @property
    def dead(self) -> str:
        return f"{self.tag}:dead"

    def job(self, job_id: str) -> str:
        return f"{self.tag}:job:{job_id}"

    def processing(self, worker_id: str) -> str:
        return f"{self.tag}:processing:{worker_id}"

    def heartbeat(self, worker_id: str) -> str:
        return f"{self.tag}:worker:{worker_id}"

    @property
    def totals(self) -> str:
        """Counts of transitions (enqueued, done, failed, retried, recovered) and model usage."""
        return f"{self.tag}:totals"

    @property
    def recent(self) -> str:
        """The ids of the newest jobs enqueued through the API (at most 100)."""
        return f"{self.tag}:recent"

    @property
    def progress_channel(self) -> str:
        return f"{self.channel}:progress"

    def stream(self, job_id: str) -> str:
        return f"{self.tag}:stream:{job_id}"

    def cache(self, digest: str) -> str:
        return f"{self.tag}:cache:{digest}"

    def cache_lock(self, digest: str) -> str:
        return f"{self.tag}:cache-lock:{digest}"

    def limit(self, model: str) -> str:
        """A model's shared call schedule. Per queue, like every key, so a queue keeps to
        one hash slot (one Redis Cluster node); queues sharing a quota split it in settings."""
        return f"{self.tag}:limit:{model}"

    def cool_down(self, model: str) -> str:
        return f"{self.tag}:cool-down:{model}"

    def idempotency(self, tenant: str, key: str) -> str:
        """An Idempotency-Key of one tenant: two tenants' equal keys are two keys. Hashed:
        the client's key may be long or hold any bytes; ours stays short and safe."""
        scoped = key if tenant == DEFAULT_TENANT else f"{tenant}\0{key}"  # a default key keeps its old name
        return f"{self.tag}:idem:{hashlib.sha256(scoped.encode()).hexdigest()}"

    @property
    def tenants(self) -> str:
        """The names of the tenants that have had jobs (the admin's breakdown in /stats)."""
        return f"{self.tag}:tenants"

    def tenant(self, name: str) -> str:
        """One tenant's numbers: the counts and usage of `totals`, and `active` (queued or running)."""
        return f"{self.tag}:tenant:{name}"

    def lane(self, priority: str, tenant: str) -> str:
        """The list a tenant's jobs of one priority wait in. The default tenant's normal jobs wait
        in the queue list itself, where a foreign producer's `LPUSH job_queue` puts them."""
        if priority == Priority.NORMAL and tenant == DEFAULT_TENANT:
            return self.queue
        return f"{self.lane_prefix}{priority}:{tenant}"

    @property
    def lane_prefix(self) -> str:
        """reserve.lua names the lanes it serves from this, the priority and the tenant."""
        return f"{self.tag}:lane:"

    def ring(self, priority: str) -> str:
        """The tenants with jobs waiting at one priority, each scored by the jobs it has been
        given over its weight: the least served goes next (fair share, app/queue/lua/reserve.lua)."""
        return f"{self.tag}:ring:{priority}"

    @property
    def rings(self) -> list[str]:
        return [self.ring(priority) for priority in PRIORITIES]

    @property
    def weights(self) -> str:
        """Each tenant's share of free slots (its `weight`, when not 1), as intake last saw it."""
        return f"{self.tag}:weights"

    @property
    def schedule(self) -> str:
        """reserve.lua's memory between calls: starts since a waiting low job last got one."""
        return f"{self.tag}:schedule"

    @property
    def control_channel(self) -> str:
        """Where cancel.lua names a running job to cancel, for the worker that holds it."""
        return f"{self.channel}:control"

    def listen(self, job_id: str) -> str:
        """Exists while an event stream follows the job: a job started then streams its summary."""
        return f"{self.tag}:listen:{job_id}"

    def tenant_recent(self, name: str) -> str:
        """The ids of a tenant's newest jobs enqueued through the API (at most 100)."""
        return f"{self.tag}:recent:{name}"

    def rate(self, name: str) -> str:
        """A tenant's request schedule at intake (GCRA: the theoretical arrival time, ms)."""
        return f"{self.tag}:rate:{name}"

    def spent(self, name: str, day: str) -> str:
        """The model tokens a tenant's jobs used on a UTC day (YYYY-MM-DD)."""
        return f"{self.tag}:spent:{name}:{day}"

    def spent_cost(self, name: str, day: str) -> str:
        """What a tenant's jobs cost on a UTC day, USD (at the prices set: GEMINI_PRICE*)."""
        return f"{self.tag}:spent-cost:{name}:{day}"


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
) -> Message:
    """A new job's message; `expires_in` seconds from now it may no longer start (0: never)."""
    now = time.time()
    expires_at = round(now + expires_in, 3) if expires_in > 0 else 0.0
    return Message(new_job_id(), text, now, options, tenant, expires_at, priority, stream=stream)


# The fields a message may carry for us; any other field of a foreign producer's is its `meta`.
MESSAGE_FIELDS: Final = frozenset(
    {"id", "text", "enqueued_at", "options", "tenant", "expires_at", "priority", "meta", "stream"}
)
# An "attempt" field (written by earlier versions) is ignored: the record counts attempts.
IGNORED_FIELDS: Final = frozenset({"attempt"})
# A foreign producer's own fields are kept up to this size (as JSON): correlation ids, not payloads.
META_MAX_BYTES: Final = 4096


def decode_message(raw: bytes, max_text_chars: int | None = None) -> tuple[Message, bool]:
    """Parse a queue message. Returns the message and whether it had to be completed (a
    foreign producer's `{"text": ...}` gets an id and defaults; a message that is not a JSON
    object is the text itself, as the original design's producer pushes it). Raises
    PoisonMessage with a reason when no job can be made of it, holding a foreign producer
    to the limits the API holds its clients to (MAX_TEXT_CHARS)."""
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
    options, tenant, expires_at = _options(data.get("options")), _tenant(data.get("tenant")), data.get("expires_at", 0)
    if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool) or not expires_at >= 0:
        raise PoisonMessage(f"bad expires_at {expires_at!r}: expected unix seconds (or 0 for never)")
    priority, meta, stream = _priority(data.get("priority")), _meta(data), data.get("stream", False)
    if not isinstance(stream, bool):
        raise PoisonMessage(f"bad stream {stream!r}: expected true or false")
    message = Message(job_id, text, float(enqueued_at), options, tenant, float(expires_at), priority, meta, stream)
    return message, completed


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
    if raw is None:
        return Priority.NORMAL
    try:
        return Priority(raw)
    except ValueError:
        raise PoisonMessage(f"bad priority {raw!r}: expected 'high', 'normal' or 'low'") from None


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


# A record whose job never ends (its message deleted by hand) goes after this long.
UNFINISHED_RECORD_TTL_S: Final = 30 * 86_400
# Progress streams hold at most about this many pieces; the done event has the whole summary.
STREAM_CAP: Final = 1000

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


@dataclass(frozen=True, slots=True)
class Timing:
    """When a job was enqueued, started and ended (unix seconds): its event's queued_s and run_s."""

    enqueued_at: float
    started_at: float
    ended_at: float

    def fields(self) -> dict[str, object]:
        return {
            "queued_s": round(self.started_at - self.enqueued_at, 6),
            "run_s": round(self.ended_at - self.started_at, 6),
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a done job records and announces: its summary and what the model layer knows
    of it. The one home of those fields: the record (`record_fields`), the queue's usage
    totals (`usage`), the done event (`event`), and their types (RECORD_FIELDS)."""

    summary: str
    model: str
    cached: bool = False
    truncated: bool = False
    prompt_tokens: int | None = None  # None: the model did not say
    output_tokens: int | None = None
    cost_usd: float | None = None  # None: no prices set, or served from the cache
    unhonoured_options: tuple[str, ...] = ()

    @property
    def tokens(self) -> int:
        """The model tokens this job spent of its tenant's daily budget (none when cached)."""
        return 0 if self.cached else (self.prompt_tokens or 0) + (self.output_tokens or 0)

    def record_fields(self) -> tuple[str | int | float, ...]:
        """Name/value pairs for the record. Flags only when true (decode_record fills in
        false), numbers only when known: a done record stays small."""
        fields: tuple[str | int | float, ...] = ("summary", self.summary, "model", self.model)
        if self.cached or self.truncated or self.prompt_tokens is not None or self.unhonoured_options:
            fields += self._facts()  # not for a plain summary: the common case pays nothing here
        return fields

    def usage(self) -> tuple[str | int | float, ...]:
        """Name/amount pairs to add to the queue's totals (USAGE_TOTALS)."""
        if self.prompt_tokens is None and not self.cached:
            return ()
        amounts: tuple[str | int | float, ...] = ("cached_jobs", 1) if self.cached else ()
        for name, value in self._known_usage():
            amounts += (name, value)
        return amounts

    def event(self, job_id: str, timing: Timing, meta: bytes = b"") -> bytes:
        event: dict[str, object] = {
            "id": job_id,
            "status": "done",
            "summary": self.summary,
            "model": self.model,
            "queued_s": round(timing.started_at - timing.enqueued_at, 6),
            "run_s": round(timing.ended_at - timing.started_at, 6),
            "cached": self.cached,
            "truncated": self.truncated,
        }
        if self.prompt_tokens is not None:
            event.update(self._known_usage())
        if self.unhonoured_options:
            event["unhonoured_options"] = list(self.unhonoured_options)
        if meta:
            event["meta"] = orjson.Fragment(meta)
        return orjson.dumps(event)

    def _facts(self) -> tuple[str | int | float, ...]:
        facts: tuple[str | int | float, ...] = ("cached", 1) if self.cached else ()
        if self.truncated:
            facts += ("truncated", 1)
        for name, value in self._known_usage():
            facts += (name, value)
        if self.unhonoured_options:
            facts += ("unhonoured_options", ",".join(self.unhonoured_options))
        return facts

    def _known_usage(self) -> list[tuple[str, int | float]]:
        if self.prompt_tokens is None:
            return []
        known: list[tuple[str, int | float]] = [("prompt_tokens", self.prompt_tokens)]
        known.append(("output_tokens", self.output_tokens or 0))
        if self.cost_usd is not None:
            known.append(("cost_usd", self.cost_usd))
        return known


def _with_meta(event: dict[str, object], meta: bytes) -> bytes:
    """The event as JSON, with the producer's own fields (`meta`) when it sent any."""
    return orjson.dumps(event | {"meta": orjson.Fragment(meta)} if meta else event)


def failed_event(job_id: str, error: str, timing: Timing, meta: bytes = b"") -> bytes:
    return _with_meta({"id": job_id, "status": Status.FAILED.value, "error": error, **timing.fields()}, meta)


# What an expired job records and announces as its error.
EXPIRED_ERROR: Final = "expired: not started before its expiry (expires_in or JOB_EXPIRES); no model call was made"


# What a cancelled job records and announces as its error.
CANCELLED_ERROR: Final = "cancelled by its client (DELETE /jobs/{id}); no model call is made for it from then on"


def cancelled_event(job_id: str, meta: bytes = b"") -> bytes:
    return _with_meta({"id": job_id, "status": Status.CANCELLED.value, "error": CANCELLED_ERROR}, meta)


def expired_event(message: Message, now: float) -> bytes:
    event = {"id": message.id, "status": Status.EXPIRED.value, "error": EXPIRED_ERROR}
    return _with_meta(event | {"queued_s": round(now - message.enqueued_at, 6)}, message.meta)


# Every field a job record may hold, with its JSON type: the record decoder reads the
# hash's strings by it, and the OpenAPI document's Job schema is made from it.
RECORD_FIELDS: Final[dict[str, str]] = {
    "status": "string",
    "tenant": "string",
    "attempts": "integer",
    "text_chars": "integer",
    "enqueued_at": "number",
    "started_at": "number",
    "finished_at": "number",
    "retry_at": "number",
    "worker": "string",
    "summary": "string",
    "model": "string",
    "error": "string",
    "cached": "boolean",
    "truncated": "boolean",
    "prompt_tokens": "integer",
    "output_tokens": "integer",
    "cost_usd": "number",
    "unhonoured_options": "array",
    "meta": "object",
}
# The model usage the totals hash sums (Outcome.usage), beside the transition counts.
USAGE_TOTALS: Final[dict[str, str]] = {
    "prompt_tokens": "integer",
    "output_tokens": "integer",
    "cost_usd": "number",
    "cached_jobs": "integer",
}
# Fields the scripts keep for themselves: `counted` marks a job counted in its tenant's `active`.
INTERNAL_FIELDS: Final = frozenset({"counted"})
_DECODERS: Final[dict[str, Callable[[str], object]]] = {
    "integer": lambda text: int(float(text)),
    "number": float,
    "boolean": lambda text: text == "1",
    "array": lambda text: text.split(",") if text else [],
    "object": lambda text: _json_or_text(text),
}


def _json_or_text(text: str) -> object:
    """A JSON field of a record; one someone wrote by hand that is not JSON stays its text."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def decode_record(job_id: str, fields: dict[bytes, bytes]) -> dict[str, object]:
    """A job hash as the API shows it: strings, with numbers as numbers."""
    record: dict[str, object] = {"id": job_id}
    for key, value in fields.items():
        name, text = key.decode(), value.decode("utf-8", "replace")
        if name in INTERNAL_FIELDS:
            continue
        decode = _DECODERS.get(RECORD_FIELDS.get(name, "string"))
        record[name] = decode(text) if decode is not None else text
    record.setdefault("tenant", DEFAULT_TENANT)  # a record from before tenants, or a foreign producer's
    if record.get("status") == Status.DONE.value:  # stored only when true
        record.setdefault("cached", False)
        record.setdefault("truncated", False)
    return record


def is_final(record: Mapping[str, object]) -> bool:
    """The record is of a job that has ended (done or failed)."""
    status = record.get("status")
    return isinstance(status, str) and status in _FINAL


_FINAL: Final = frozenset(status.value for status in Status if status.final)
