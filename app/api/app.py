"""The HTTP API: accept texts, hand out job ids, answer with results (aiohttp)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator
from importlib import resources

import orjson
from aiohttp import web
from aiohttp.http_exceptions import PayloadEncodingError
from aiohttp.web_protocol import RequestPayloadError

from app import tasks
from app.api.edge import expect_handler
from app.api.openapi import IDEMPOTENCY_KEY_PATTERN, openapi_document
from app.api.problems import Problem, job_not_found, problem_middleware
from app.api.rates import Rates
from app.api.resources import BROKER, HUB, INTAKE, METRICS, OPENAPI, QUEUE, RATES, SETTINGS
from app.api.security import auth_middleware, cors_headers, cors_middleware
from app.api.stream import job_events
from app.config import Settings
from app.connection.factory import UNAVAILABLE, Broker
from app.metrics import Metrics
from app.options import FIELDS as OPTION_FIELDS
from app.options import InvalidOption, Options, parse_options
from app.queue.batching import GroupCommit
from app.queue.contract import FINAL_STATUSES, JOB_ID_RE, Message, new_message
from app.queue.hub import ResultHub
from app.queue.store import DuplicateRequest, Enqueue, JobQueue, QueueFull
from app.worker.probe import metrics_response

log = logging.getLogger(__name__)


MAX_WAIT_S = 60.0
SAMPLE_EVERY_S = 5.0
INTAKE_LANES = 2
IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)
# ASCII digits only: str.isdigit() also takes superscripts and circled digits, which int() refuses.
LIMIT_RE = re.compile(r"[0-9]{1,3}")
# One static page, no build step, nothing from the internet: read once at import.
DASHBOARD = resources.files("app.api.static").joinpath("dashboard.html").read_bytes()
ALLOWED_FIELDS = frozenset({"text", *OPTION_FIELDS})


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json", headers=headers)


def _wait_seconds(request: web.Request) -> float:
    raw = request.query.get("wait")
    if raw is None:
        return 0.0
    try:
        wait_s = float(raw)
    except ValueError:
        wait_s = -1.0
    if not 0 <= wait_s <= MAX_WAIT_S:  # also rejects nan
        raise Problem(400, "invalid-wait", "Bad Request", f"wait={raw!r}: expected seconds from 0 to {MAX_WAIT_S:g}")
    return wait_s


async def _read_job(request: web.Request, max_chars: int) -> tuple[str, Options]:
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported Media Type",
            f"Content-Type {request.content_type!r} is not accepted: send application/json",
        )
    try:
        body = await request.read()
    except (PayloadEncodingError, RequestPayloadError):
        encoding = request.headers.get("Content-Encoding", "")[:32]
        if not encoding:
            raise Problem(400, "bad-request", "Bad Request", "the body could not be read as framed") from None
        detail = f"the body does not decode as its Content-Encoding {encoding!r} says: send it plain, or encoded"
        raise Problem(400, "invalid-body-encoding", "Bad Request", detail) from None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "invalid-json", "Bad Request", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Problem(422, "invalid-body", "Unprocessable Content", 'expected a JSON object like {"text": "..."}')
    if unknown := sorted(data.keys() - ALLOWED_FIELDS):
        accepted = ", ".join(repr(name) for name in ("text", *OPTION_FIELDS))
        detail = f"unknown field(s) {unknown}: the accepted fields are {accepted}"
        raise Problem(422, "unknown-field", "Unprocessable Content", detail)
    text = _validate_text(data.get("text"), max_chars)
    try:
        return text, parse_options(data)
    except InvalidOption as exc:
        raise Problem(422, "invalid-option", "Unprocessable Content", str(exc), extra={"field": exc.name}) from None


def _validate_text(text: object, max_chars: int) -> str:
    title = "Unprocessable Content"
    if text is None:
        raise Problem(422, "missing-text", title, 'the field \'text\' is required: send {"text": "..."}')
    if not isinstance(text, str):
        raise Problem(422, "invalid-text", title, f"'text' must be a string, not {_json_type(text)}")
    if not text.strip():
        raise Problem(422, "empty-text", title, "'text' is empty or only whitespace: send the text to summarize")
    if len(text) > max_chars:
        raise Problem(
            422, "text-too-long", title, f"'text' has {len(text)} characters; the limit is {max_chars} (MAX_TEXT_CHARS)"
        )
    return text


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


async def wait_for_final(request: web.Request, job_id: str, wait_s: float) -> dict[str, object] | None:
    """The job record once final, or as it is after `wait_s`. None for an unknown id."""
    queue, hub = request.app[QUEUE], request.app[HUB]
    deadline = asyncio.get_running_loop().time() + wait_s
    async with hub.waiter(job_id) as woken:
        while True:
            woken.clear()  # before the read: an event after it sets this again
            record = await queue.get_job(job_id)
            remaining = deadline - asyncio.get_running_loop().time()
            if record is None or record["status"] in FINAL_STATUSES or remaining <= 0 or hub.closing:
                return record
            try:
                async with asyncio.timeout(remaining):
                    await woken.wait()
            except TimeoutError:
                return await queue.get_job(job_id)


async def post_process(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    wait_s = _wait_seconds(request)
    idempotency_key = _idempotency_key(request)
    message: Message = new_message(*await _read_job(request, settings.max_text_chars))
    try:
        refused = await request.app[INTAKE].submit(Enqueue(message, settings.max_queue_length, idempotency_key))
        if refused is not None:
            raise refused
    except DuplicateRequest as duplicate:
        return await _replay(request, duplicate.job_id, wait_s)
    except QueueFull:
        raise Problem(
            503,
            "queue-full",
            "Service Unavailable",
            f"the queue holds {settings.max_queue_length} jobs (MAX_QUEUE_LENGTH); nothing was enqueued, retry later",
            {"Retry-After": "5"},
        ) from None
    request.app[METRICS].enqueued.inc()
    if log.isEnabledFor(logging.INFO):  # the text's hash only when the line is written
        log.info("job accepted", extra={"job_id": message.id, **text_facts(message.text)})
    return await _accepted(request, message.id, wait_s)


def text_facts(text: str) -> dict[str, object]:
    """What a log line says of a text: its length and a short hash, never the text."""
    return {"text_chars": len(text), "text_hash": hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}


async def _accepted(request: web.Request, job_id: str, wait_s: float, status: str = "queued") -> web.Response:
    """202 with the job's id and status, or 200 with the whole job when it ends within `wait_s`."""
    location = {"Location": f"/jobs/{job_id}"}
    if wait_s > 0:
        record = await wait_for_final(request, job_id, wait_s)
        if record is not None and record["status"] in FINAL_STATUSES:
            return _json(record, 200, location)
        status = str(record["status"]) if record is not None else status
    return _json({"id": job_id, "status": status}, 202, location)


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY_RE.fullmatch(key):
        detail = "Idempotency-Key must be 1-255 printable ASCII characters (a UUID is a good choice)"
        raise Problem(400, "invalid-idempotency-key", "Bad Request", detail)
    return key


async def _replay(request: web.Request, job_id: str, wait_s: float) -> web.Response:
    """The answer to a repeated Idempotency-Key: the first request's job, not a new one."""
    if wait_s > 0:
        return await _accepted(request, job_id, wait_s)
    record = await request.app[QUEUE].get_job(job_id)
    return await _accepted(request, job_id, wait_s, str(record["status"]) if record is not None else "queued")


async def get_job(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    wait_s = _wait_seconds(request)
    record = None
    if JOB_ID_RE.fullmatch(job_id):
        if wait_s > 0:
            record = await wait_for_final(request, job_id, wait_s)
        else:
            record = await request.app[QUEUE].get_job(job_id)
    if record is None:
        raise job_not_found(job_id)
    return _json(record)


async def stats(request: web.Request) -> web.Response:
    """Where the jobs are, the workers, the totals, and the rates over the last minute."""
    numbers = await request.app[QUEUE].stats()
    rates = request.app[RATES]
    rates.add(time.monotonic(), numbers["totals"])  # type: ignore[arg-type]
    numbers["rates_per_minute"] = rates.per_minute()
    return _json(numbers)


async def list_jobs(request: web.Request) -> web.Response:
    """The newest jobs enqueued through the API (`limit`, 1-100, default 20), newest first."""
    raw = request.query.get("limit", "20")
    if not LIMIT_RE.fullmatch(raw) or not 1 <= int(raw) <= 100:
        raise Problem(400, "invalid-limit", "Bad Request", f"limit={raw!r}: expected an integer from 1 to 100")
    return _json({"jobs": await request.app[QUEUE].recent_jobs(int(raw))})


async def metrics_text(request: web.Request) -> web.Response:
    """Prometheus text: this process's counters and histograms, and the queue's gauges."""
    registry = request.app[METRICS]
    with contextlib.suppress(*UNAVAILABLE):  # without Redis, the gauges keep their last values
        registry.set_queue(await request.app[QUEUE].stats())
    return metrics_response(registry)


async def dashboard(request: web.Request) -> web.Response:
    return web.Response(body=DASHBOARD, content_type="text/html", charset="utf-8")


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: Redis answers, and this process hears finished jobs (its result listener is
    subscribed), without which ?wait= and event streams would hang until their timeouts."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(2.0):
            await request.app[QUEUE].redis.ping()
    except TimeoutError:
        raise Problem(503, "redis-unavailable", "Service Unavailable", "Redis did not answer PING within 2 s") from None
    if not request.app[HUB].listening:
        detail = "not subscribed to the result channel (yet): results would not reach waiting requests"
        raise Problem(503, "results-unavailable", "Service Unavailable", detail, {"Retry-After": "1"})
    return _json({"status": "ready", "redis_ping_ms": round((time.perf_counter() - started) * 1000, 3)})


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """The API's Redis client, queue and result hub: opened together, closed together."""
    settings, broker = app[SETTINGS], app[BROKER]
    redis = broker.client()
    queue = app[QUEUE] = JobQueue.from_settings(redis, settings)
    app[INTAKE] = GroupCommit(queue.enqueue_many, lanes=INTAKE_LANES)
    hub = app[HUB] = ResultHub(redis, queue.keys.channel, queue.keys.progress_channel)
    await hub.start()
    await hub.wait_subscribed(timeout_s=5.0)  # serve anyway if Redis is down: readyz says so
    stopping = asyncio.Event()
    sampler = asyncio.create_task(_sample_totals(queue, app[RATES], stopping), name="rates")
    yield
    stopping.set()  # as well as the cancellation, which redis-py can swallow (app/tasks.py)
    await tasks.stop(sampler)
    await hub.stop()
    await redis.aclose()


async def _sample_totals(queue: JobQueue, rates: Rates, stopping: asyncio.Event) -> None:
    """The totals every few seconds, so /stats has a minute of history to take rates from."""
    while not stopping.is_set():
        with contextlib.suppress(*UNAVAILABLE):
            rates.add(time.monotonic(), await queue.totals())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SAMPLE_EVERY_S):
                await stopping.wait()


async def _wake_waiters(app: web.Application) -> None:
    # Held ?wait= requests answer with the job as it stands rather than block shutdown.
    app[HUB].closing = True
    app[HUB].wake_all()


def create_app(settings: Settings, broker: Broker | None = None, metrics: Metrics | None = None) -> web.Application:
    """The aiohttp application; `broker` lets ROLE=all share the embedded Redis with its
    worker, and `metrics` its registry."""
    # A middleware is a coroutine layer on every request: only those the settings ask for.
    middlewares = [*([cors_middleware(settings)] if settings.cors_origins else []), problem_middleware]
    if settings.api_keys:
        middlewares.append(auth_middleware(settings))
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[BROKER] = broker or Broker(settings)
    app[METRICS] = metrics or Metrics()
    app[RATES] = Rates()
    app[OPENAPI] = orjson.dumps(openapi_document(settings))
    app.cleanup_ctx.append(_redis_ctx)
    app.on_shutdown.append(_wake_waiters)
    if settings.cors_origins:
        app.on_response_prepare.append(cors_headers(settings))
    routes = [
        ("POST", "/process", post_process),
        ("GET", "/jobs/{job_id}", get_job),
        ("GET", "/jobs/{job_id}/events", job_events),
        ("GET", "/stats", stats),
        ("GET", "/jobs", list_jobs),
        ("GET", "/metrics", metrics_text),
        ("GET", "/openapi.json", openapi),
        ("GET", "/", dashboard),
        ("GET", "/healthz", healthz),
        ("GET", "/readyz", readyz),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler, expect_handler=expect_handler)
    return app
