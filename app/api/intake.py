"""POST /process: validate a job, enqueue it in one round trip, answer with its id (or, with
?wait=, its result)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import NamedTuple

import orjson
from aiohttp import web
from aiohttp.http_exceptions import PayloadEncodingError
from aiohttp.web_protocol import RequestPayloadError

from app import tracing
from app.api.jobs import read_job, wait_seconds
from app.api.openapi import IDEMPOTENCY_KEY_PATTERN
from app.api.problems import Problem
from app.api.quotas import fingerprint, rate_headers, refused_problem
from app.api.resources import INTAKE, METRICS, QUEUE, SETTINGS
from app.api.responses import json_response
from app.api.security import tenant_of
from app.config import MAX_EXPIRES_S, Settings
from app.options import FIELDS as OPTION_FIELDS
from app.options import InvalidOption, Options, parse_options
from app.queue.contract import PRIORITIES, Mode, Priority, is_final
from app.queue.message import new_message
from app.queue.producer import DuplicateRequest, Enqueue, KeyReused, OverQuota, QueueFull
from app.tenants import Tenant
from app.webhooks.intake import checked_callback
from app.webhooks.targets import TargetRefused

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)
JOB_FIELDS = ("text", *OPTION_FIELDS, "expires_in", "priority", "stream", "mode", "over_budget", "callback_url")
ALLOWED_FIELDS = frozenset(JOB_FIELDS)
UNPROCESSABLE = "Unprocessable Content"


async def post_process(request: web.Request) -> web.Response:
    if request.app[SETTINGS].tracing:  # the message carries the intake span's context to the worker
        with tracing.intake_span() as traceparent:
            return await _process(request, traceparent)
    return await _process(request, "")


async def _process(request: web.Request, traceparent: str) -> web.Response:
    settings, tenant = request.app[SETTINGS], tenant_of(request)
    wait_s = wait_seconds(request)
    idempotency_key = _idempotency_key(request)
    job = await _read_job(request, settings.max_text_chars)
    _within_output_cap(job.options, settings.max_output_tokens)
    callback = await _callback(job.callback_url, settings, tenant)
    expiry = job.expires_in if job.expires_in is not None else settings.job_expires_s
    message = new_message(
        job.text,
        job.options,
        tenant.name,
        expiry,
        job.priority,
        stream=job.stream,
        mode=job.mode,
        budget_wait=job.wait,
        trace=traceparent,
    )
    stands_for = ""  # only a key needs it
    if idempotency_key is not None:
        mode = job.mode.value + (":wait" if job.wait else "")  # over_budget is part of the request too
        stands_for = fingerprint(job.text, job.options, job.priority, job.expires_in, mode, callback)
    item = Enqueue(message, settings.max_queue_length, idempotency_key, stands_for, tenant.quota, callback)
    admitted = await request.app[INTAKE].submit(item)
    headers, refused = rate_headers(tenant.quota, admitted), admitted.refused
    if isinstance(refused, DuplicateRequest):
        return await _replay(request, refused.job_id, wait_s, headers)
    if isinstance(refused, QueueFull):
        most = settings.max_queue_length
        detail = f"the queue holds {most} jobs (MAX_QUEUE_LENGTH); nothing was enqueued, retry later"
        raise Problem(503, "queue-full", "Service Unavailable", detail, {"Retry-After": "5"})
    if isinstance(refused, (KeyReused, OverQuota)):
        raise refused_problem(refused, tenant.quota, headers)
    if refused is not None:
        raise refused
    request.app[METRICS].enqueued.inc()
    if log.isEnabledFor(logging.INFO):  # the text's hash only when the line is written
        log.info("job accepted", extra={"job_id": message.id, "tenant": tenant.name, **text_facts(message.text)})
    return await _accepted(request, message.id, wait_s, headers)


def text_facts(text: str) -> dict[str, object]:
    """What a log line says of a text: its length and a short hash, never the text."""
    return {"text_chars": len(text), "text_hash": hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}


class Requested(NamedTuple):
    """A job as POST /process asked for it: `expires_in` None means the default (JOB_EXPIRES)."""

    text: str
    options: Options
    expires_in: float | None
    priority: Priority
    stream: bool = False
    mode: Mode = Mode.INTERACTIVE
    wait: bool = False  # over its tenant's daily budget, a batch job waits for the next day
    callback_url: object = None  # as sent; checked by _callback (it may resolve a name)


async def _read_job(request: web.Request, max_chars: int) -> Requested:
    data = _json_object(await _read_body(request))
    if unknown := sorted(data.keys() - ALLOWED_FIELDS):
        accepted = ", ".join(repr(name) for name in JOB_FIELDS)
        detail = f"unknown field(s) {unknown}: the accepted fields are {accepted}"
        raise Problem(422, "unknown-field", UNPROCESSABLE, detail)
    text = _validate_text(data.get("text"), max_chars)
    expires_in, priority, stream = (
        _expires_in(data.get("expires_in")),
        _priority(data.get("priority")),
        data.get("stream"),
    )
    if stream is not None and not isinstance(stream, bool):
        detail = f"'stream' must be true or false, not {stream!r}"[:300]
        raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "stream"})
    mode = _mode(data.get("mode"), bool(stream))
    wait = _over_budget(data.get("over_budget"), mode)
    try:
        options = parse_options(data)
        return Requested(text, options, expires_in, priority, bool(stream), mode, wait, data.get("callback_url"))
    except InvalidOption as exc:
        raise Problem(422, "invalid-option", UNPROCESSABLE, str(exc), extra={"field": exc.name}) from None


async def _callback(value: object, settings: Settings, tenant: Tenant) -> str:
    if value is None:
        return ""
    try:
        return await checked_callback(value, settings, tenant)
    except TargetRefused as exc:
        detail = f"'callback_url' cannot be called back: {exc}"[:500]
        raise Problem(422, "invalid-callback-url", UNPROCESSABLE, detail, extra={"field": "callback_url"}) from None


def _expires_in(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= MAX_EXPIRES_S:
        return float(value)
    detail = f"'expires_in' must be seconds, more than 0 and at most {MAX_EXPIRES_S} (30 days), not {value!r}"[:300]
    raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "expires_in"})


def _within_output_cap(options: Options, cap: int) -> None:
    asked = options.max_output_tokens
    if cap and asked and asked > cap:
        detail = f"'max_output_tokens' {asked} is over this service's cap of {cap} (MAX_OUTPUT_TOKENS): ask for less"
        raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "max_output_tokens"})


def _over_budget(value: object, mode: Mode) -> bool:
    if value is None or value == "fail":
        return False
    if value != "wait":
        detail = f"'over_budget' must be 'fail' or 'wait', not {value!r}"[:300]
        raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "over_budget"})
    if mode is not Mode.BATCH:
        detail = "only a batch job can wait for the next day's budget: 'over_budget' 'wait' needs 'mode' batch"
        raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "over_budget"})
    return True


def _mode(value: object, stream: bool) -> Mode:
    if value is None or value == Mode.INTERACTIVE.value:
        return Mode.INTERACTIVE
    if value != Mode.BATCH.value:
        detail = f"'mode' must be 'interactive' or 'batch', not {value!r}"[:300]
        raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "mode"})
    if stream:
        detail = "a batch job is answered whole, within 24 h: 'stream' needs 'mode' interactive"
        raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "stream"})
    return Mode.BATCH


def _priority(value: object) -> Priority:
    if value is None:
        return Priority.NORMAL
    if isinstance(value, str) and value in PRIORITIES:
        return Priority(value)
    detail = f"'priority' must be one of 'high', 'normal', 'low', not {value!r}"[:300]
    raise Problem(422, "invalid-option", UNPROCESSABLE, detail, extra={"field": "priority"})


async def _read_body(request: web.Request) -> bytes:
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        detail = f"Content-Type {request.content_type!r} is not accepted: send application/json"
        raise Problem(415, "unsupported-media-type", "Unsupported Media Type", detail)
    timeout_s = request.app[SETTINGS].body_timeout_s
    try:
        if request.content.is_eof():  # the whole body came with the head (the usual case): no clock needed
            return await request.read()
        async with asyncio.timeout(timeout_s):
            return await request.read()
    except TimeoutError:  # a body trickled too slowly: the connection is closed after the answer (edge.py)
        detail = f"the body did not arrive within {timeout_s:g} s (BODY_TIMEOUT); nothing was used"
        raise Problem(408, "request-timeout", "Request Timeout", detail) from None
    except (PayloadEncodingError, RequestPayloadError):
        encoding = request.headers.get("Content-Encoding", "")[:32]
        if not encoding:
            raise Problem(400, "bad-request", "Bad Request", "the body could not be read as framed") from None
        detail = f"the body does not decode as its Content-Encoding {encoding!r} says: send it plain, or encoded"
        raise Problem(400, "invalid-body-encoding", "Bad Request", detail) from None


def _json_object(body: bytes) -> dict[str, object]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "invalid-json", "Bad Request", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Problem(422, "invalid-body", UNPROCESSABLE, 'expected a JSON object like {"text": "..."}')
    return data


def _validate_text(text: object, max_chars: int) -> str:
    if text is None:
        raise Problem(422, "missing-text", UNPROCESSABLE, 'the field \'text\' is required: send {"text": "..."}')
    if not isinstance(text, str):
        raise Problem(422, "invalid-text", UNPROCESSABLE, f"'text' must be a string, not {_json_type(text)}")
    if not text.strip():
        detail = "'text' is empty or only whitespace: send the text to summarize"
        raise Problem(422, "empty-text", UNPROCESSABLE, detail)
    if len(text) > max_chars:
        detail = f"'text' has {len(text)} characters; the limit is {max_chars} (MAX_TEXT_CHARS)"
        raise Problem(422, "text-too-long", UNPROCESSABLE, detail)
    return text


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY_RE.fullmatch(key):
        detail = "Idempotency-Key must be 1-255 printable ASCII characters (a UUID is a good choice)"
        raise Problem(400, "invalid-idempotency-key", "Bad Request", detail)
    return key


async def _accepted(
    request: web.Request, job_id: str, wait_s: float, headers: dict[str, str], status: str = "queued"
) -> web.Response:
    """202 with the job's id and status, or 200 with the whole job when it ends within `wait_s`."""
    headers = headers | {"Location": f"/jobs/{job_id}"}
    if wait_s > 0:
        record = await read_job(request, job_id, wait_s)
        if record is not None and is_final(record):
            return json_response(record, 200, headers)
        status = str(record["status"]) if record is not None else status
    return json_response({"id": job_id, "status": status}, 202, headers)


async def _replay(request: web.Request, job_id: str, wait_s: float, headers: dict[str, str]) -> web.Response:
    """The answer to a repeated Idempotency-Key: the first request's job, not a new one."""
    if wait_s > 0:
        return await _accepted(request, job_id, wait_s, headers)
    record = await request.app[QUEUE].reads.get_job(job_id)
    return await _accepted(request, job_id, wait_s, headers, str(record["status"]) if record is not None else "queued")
