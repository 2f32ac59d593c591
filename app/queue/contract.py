"""The Redis wire contract: key names, the message and event codec, job status. Pure, no I/O."""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import orjson

from app.options import NO_OPTIONS, InvalidOption, Options, parse_options

# A job id other producers may choose: printable, no spaces, short enough to be a key.
JOB_ID_RE: Final = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in (Status.DONE, Status.FAILED)


FINAL_STATUSES: Final = frozenset({Status.DONE.value, Status.FAILED.value})


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

    def idempotency(self, key: str) -> str:
        # Hashed: the client's key may be long or hold any bytes; ours stays short and safe.
        return f"{self.tag}:idem:{hashlib.sha256(key.encode()).hexdigest()}"


@dataclass(frozen=True, slots=True)
class Message:
    """One job as it travels on the queue."""

    id: str
    text: str
    attempt: int = 0
    enqueued_at: float = 0.0
    options: Options = NO_OPTIONS

    def encode(self) -> bytes:
        data: dict[str, object] = {
            "id": self.id,
            "text": self.text,
            "attempt": self.attempt,
            "enqueued_at": self.enqueued_at,
        }
        if self.options:
            data["options"] = self.options.to_dict()
        return orjson.dumps(data)


class PoisonMessage(ValueError):
    """A queue message no worker can run; the reason goes to the dead list. `oversized`:
    refused for its size, so only its head is worth keeping there."""

    def __init__(self, reason: str, *, oversized: bool = False) -> None:
        super().__init__(reason)
        self.oversized = oversized


def new_job_id() -> str:
    """32 random hex digits, as uuid4().hex but without building a UUID (a job id per request)."""
    return os.urandom(16).hex()


def new_message(text: str, options: Options = NO_OPTIONS) -> Message:
    return Message(id=new_job_id(), text=text, attempt=0, enqueued_at=time.time(), options=options)


def decode_message(raw: bytes, max_text_chars: int | None = None) -> tuple[Message, bool]:
    """Parse a queue message. Returns the message and whether it had to be
    completed (a foreign producer's `{"text": ...}` gets an id and defaults).
    Raises PoisonMessage with a reason when no job can be made of it, holding a
    foreign producer to the limits the API holds its clients to (MAX_TEXT_CHARS)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PoisonMessage(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PoisonMessage(f"not a JSON object but {type(data).__name__}")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise PoisonMessage("no text: the message needs a non-empty string field 'text'")
    if max_text_chars is not None and len(text) > max_text_chars:
        detail = f"text too long: {len(text)} characters; the limit is {max_text_chars} (MAX_TEXT_CHARS)"
        raise PoisonMessage(detail, oversized=True)
    job_id, attempt, enqueued_at = data.get("id"), data.get("attempt", 0), data.get("enqueued_at")
    completed = False
    if job_id is None:
        job_id, completed = new_job_id(), True
    elif not isinstance(job_id, str) or not JOB_ID_RE.fullmatch(job_id):
        raise PoisonMessage(f"bad id {job_id!r}: expected 1-128 characters of [A-Za-z0-9._:-]")
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0:
        raise PoisonMessage(f"bad attempt {attempt!r}: expected a non-negative integer")
    if not isinstance(enqueued_at, (int, float)) or isinstance(enqueued_at, bool):
        enqueued_at, completed = time.time(), True
    message = Message(
        id=job_id, text=text, attempt=attempt, enqueued_at=float(enqueued_at), options=_options(data.get("options"))
    )
    return message, completed


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


def done_event(
    job_id: str,
    summary: str,
    model: str,
    enqueued_at: float,
    started_at: float,
    now: float,
    extra: dict[str, object] | None = None,
) -> bytes:
    """`extra`: what the model layer adds (usage, cost, cached, truncated), as in the record."""
    event: dict[str, object] = {
        "id": job_id,
        "status": Status.DONE.value,
        "summary": summary,
        "model": model,
        "queued_s": round(started_at - enqueued_at, 6),
        "run_s": round(now - started_at, 6),
    }
    if extra:
        event.update(extra)
    return orjson.dumps(event)


def failed_event(job_id: str, error: str, enqueued_at: float, started_at: float, now: float) -> bytes:
    return orjson.dumps(
        {
            "id": job_id,
            "status": Status.FAILED.value,
            "error": error,
            "queued_s": round(started_at - enqueued_at, 6),
            "run_s": round(now - started_at, 6),
        }
    )


_INT_FIELDS: Final = frozenset({"attempts", "text_chars", "prompt_tokens", "output_tokens"})
_FLOAT_FIELDS: Final = frozenset({"enqueued_at", "started_at", "finished_at", "retry_at", "cost_usd"})
_BOOL_FIELDS: Final = frozenset({"cached", "truncated"})
_LIST_FIELDS: Final = frozenset({"unhonoured_options"})


def decode_record(job_id: str, fields: dict[bytes, bytes]) -> dict[str, object]:
    """A job hash as the API shows it: strings, with numbers as numbers."""
    record: dict[str, object] = {"id": job_id}
    for key, value in fields.items():
        name, text = key.decode(), value.decode("utf-8", "replace")
        if name in _INT_FIELDS:
            record[name] = int(float(text))
        elif name in _FLOAT_FIELDS:
            record[name] = float(text)
        elif name in _BOOL_FIELDS:
            record[name] = text == "1"
        elif name in _LIST_FIELDS:
            record[name] = text.split(",") if text else []
        else:
            record[name] = text
    if record.get("status") == Status.DONE.value:  # stored only when true
        record.setdefault("cached", False)
        record.setdefault("truncated", False)
    return record
