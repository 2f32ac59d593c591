"""The composition root: builds what a process's role (api, worker or both) needs, and runs it
until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from aiohttp import web

from app import tracing
from app.api.app import create_app
from app.api.edge import ProblemAppRunner
from app.api.limits import fit_to_fd_limit
from app.batch.lane import BatchLane
from app.config import Role, Settings
from app.connection.factory import RedisFactory
from app.metrics import Metrics
from app.model.batches import GeminiBatches
from app.model.fallback import ModelChain
from app.model.layer import ModelLayer
from app.model.summarizers import build_fallbacks, build_summarizer
from app.model.summarizers.base import Summarizer
from app.model.summarizers.gemini import GeminiSummarizer
from app.queue.store import Queue
from app.tenants import Tenants
from app.tracing import JobTracer
from app.webhooks.delivery import Deliverer
from app.worker.probe import probe_app
from app.worker.runner import Worker, new_worker_id

log = logging.getLogger(__name__)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


def _announce(settings: Settings) -> None:
    if settings.embedded:
        log.info("no REDIS_URL: running on the embedded in-process broker (jobs live only as long as this process)")
    if settings.summarizer == "extractive" and not settings.gemini_api_key:
        log.info("no GEMINI_API_KEY: summarizing offline with the extractive summarizer")
    else:
        log.info("summarizer selected", extra={"summarizer": settings.summarizer, "model": settings.gemini_model})


def build_worker(
    settings: Settings,
    queue: Queue,
    summarizer: Summarizer,
    *,
    fallbacks: Sequence[Summarizer] = (),
    metrics: Metrics | None = None,
    worker_id: str | None = None,
) -> Worker:
    """A worker of `queue` and the model layer it runs jobs through, as the settings ask: with
    `fallbacks` (the summarizers of GEMINI_MODEL's further models), a chain of layers."""
    metrics = metrics or Metrics()
    layer = ModelLayer.from_settings(settings, queue, summarizer, metrics)
    model: ModelLayer | ModelChain = layer
    if fallbacks:
        layers = [layer, *(ModelLayer.from_settings(settings, queue, each, metrics) for each in fallbacks)]
        model = ModelChain(layers, metrics, settings.fallback_after_s)
    worker_id = worker_id or new_worker_id()
    lane, webhooks = None, None
    if settings.webhook_allowed_hosts:
        secrets = Tenants.from_settings(settings).webhook_secrets()
        webhooks = Deliverer(queue.outbox, queue.reads, settings, secrets, metrics)
    if isinstance(summarizer, GeminiSummarizer):  # a model with a Batch API: batch jobs go to its lane
        api = GeminiBatches(summarizer)
        lane = BatchLane(worker_id, settings, queue.batches, queue.transitions, api, layer)
    tracer = JobTracer(summarizer.rate_limited_model or summarizer.name) if settings.tracing else None
    return Worker(
        settings,
        queue.transitions,
        model,
        worker_id=worker_id,
        metrics=metrics,
        batches=lane,
        webhooks=webhooks,
        tracer=tracer,
    )


def _url(host: str, port: int) -> str:
    """Where a person on this machine reaches a port bound to `host`."""
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _start_api(settings: Settings, redis_factory: RedisFactory, metrics: Metrics) -> web.AppRunner:
    # Caps this process can keep: MAX_CONNECTIONS lowered (with a warning) to fit the fd limit.
    settings = fit_to_fd_limit(settings)
    app = create_app(settings, redis_factory, metrics)
    # The runner takes HEADER_TIMEOUT, KEEPALIVE_TIMEOUT and MAX_CONNECTIONS from the app's settings.
    runner = ProblemAppRunner(app, shutdown_timeout=settings.shutdown_grace_s)
    await runner.setup()
    await web.TCPSite(runner, host=settings.host, port=settings.port).start()
    url = _url(settings.host, settings.port)
    log.info(
        "api listening",
        extra={
            "url": url,
            "host": settings.host,
            "max_connections": settings.max_connections,
            "max_event_streams": settings.max_event_streams,
        },
    )
    log.info(
        "try it: curl -X POST %s/process?wait=30 -H 'Content-Type: application/json' -d '{\"text\": \"...\"}'", url
    )
    return runner


async def _start_probe(settings: Settings, worker: Worker) -> web.AppRunner | None:
    """A worker's own HTTP port: /healthz for container healthchecks. A port in use (several
    workers on one host) costs the probe, not the worker: its jobs matter more."""
    runner = web.AppRunner(probe_app(lambda: worker.healthy, worker.metrics), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host=settings.host, port=settings.metrics_port).start()
    except OSError as exc:
        await runner.cleanup()
        detail = "give each worker on a host its own METRICS_PORT, or 0 for none"
        log.error("worker probe not started", extra={"port": settings.metrics_port, "error": str(exc), "fix": detail})
        return None
    log.info("worker probe listening", extra={"url": f"{_url(settings.host, settings.metrics_port)}/healthz"})
    return runner


async def run(settings: Settings) -> int:
    """Serve the role until a signal; then stop taking work and shut down in order. Returns the
    exit status: 1 when the worker stopped by itself (a broken loop), else 0."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    _announce(settings)
    # Before the app and the Redis clients exist: instrumentation wraps what is made after it.
    provider = None
    if settings.tracing:
        provider = tracing.start(f"summarize-queue-{settings.role}", sampled_by_env=settings.tracing_sampler_set)
    redis_factory = RedisFactory(settings)
    metrics = Metrics()  # one registry per process: ROLE=all's /metrics has the worker's too
    runner = await _start_api(settings, redis_factory, metrics) if settings.role in (Role.API, Role.ALL) else None
    worker: Worker | None = None
    worker_task, redis, summarizer, probe = None, None, None, None
    if settings.role in (Role.WORKER, Role.ALL):
        redis = redis_factory.client()
        queue = Queue.from_settings(redis, settings, blocking_move=not redis_factory.embedded)
        summarizer = build_summarizer(settings)
        worker = build_worker(settings, queue, summarizer, fallbacks=build_fallbacks(settings), metrics=metrics)
        if settings.role is Role.WORKER and settings.metrics_port:
            probe = await _start_probe(settings, worker)
        worker_task = asyncio.create_task(worker.run(), name="worker")
        stop_waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([worker_task, stop_waiter], return_when=asyncio.FIRST_COMPLETED)
        worker.stop()
        await worker_task
    else:
        await stop.wait()
    log.info("shutting down")
    for server in (runner, probe):
        if server is not None:
            await server.cleanup()
    if summarizer is not None:
        await summarizer.aclose()
    if redis is not None:
        await redis.aclose()
    if provider is not None:
        await tracing.stop(provider)
    return 1 if worker is not None and worker.broken else 0
