"""A job's record (the hash the API shows) and the events that announce its ending: what a finished
job records, its usage, its timing. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import orjson

from app.queue.contract import DEFAULT_TENANT, Mode, Status
from app.queue.message import Message

# A record whose job never ends (its message deleted by hand) goes after this long.
UNFINISHED_RECORD_TTL_S: Final = 30 * 86_400


# Progress streams hold at most about this many pieces; the done event has the whole summary.
STREAM_CAP: Final = 1000


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
    batch: str = ""  # the name of the Gemini batch job that answered it (its record says mode "batch")

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
        if self.batch:
            fields += ("mode", Mode.BATCH.value, "batch", self.batch)
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
        if self.batch:
            event |= {"mode": Mode.BATCH.value, "batch": self.batch}
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


def budget_error(tenant: str, *, waits: bool = False) -> str:
    """What a job whose tenant spent its daily budget records: it failed without a model call, or
    (a batch job that asked to) waits for the next day."""
    then = "waits for the next day" if waits else "no model call was made"
    return f"budget-exhausted: tenant {tenant!r} spent its daily budget; {then}"


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
    "mode": "string",
    "batch": "string",
    # A callback asked for at intake, and its delivery (app/webhooks): pending, retrying, delivered or dead.
    "callback_url": "string",
    "webhook": "string",
    "webhook_attempts": "integer",
    "webhook_error": "string",
    "webhook_delivered_at": "number",
    "webhook_next_at": "number",
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
