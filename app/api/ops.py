"""For operators and probes: /stats, /metrics, /healthz, /readyz, /openapi.json;
and the sampler of the queue's totals behind /stats' rates."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator

from aiohttp import web

from app import tasks
from app.api.limits import held_open
from app.api.problems import Problem
from app.api.rates import Rates
from app.api.resources import HUB, METRICS, QUEUE, REDIS
from app.api.responses import json_response
from app.api.security import tenant_of
from app.api.trends import TRENDS
from app.connection.errors import UNAVAILABLE
from app.metrics import metrics_response

SAMPLE_EVERY_S = 5.0
PING_WITHIN_S = 2.0

RATES = web.AppKey("rates", Rates)
OPENAPI = web.AppKey("openapi", bytes)  # the document, serialized once


async def stats(request: web.Request) -> web.Response:
    """For an admin: where the jobs are, the workers, the totals, the rates over the last
    minute and each tenant's numbers. For any other tenant: its own numbers and quota."""
    tenant, reads = tenant_of(request), request.app[QUEUE].reads
    if not tenant.admin:
        own = await reads.tenant_numbers(tenant.name)
        return json_response({"tenant": tenant.name, **own, "quota": dataclasses.asdict(tenant.quota)})
    numbers = await reads.stats()
    rates = request.app[RATES]
    rates.add(time.monotonic(), numbers["totals"])  # type: ignore[arg-type]
    numbers["rates_per_minute"] = rates.per_minute()
    numbers["tenant"] = tenant.name
    numbers["tenants"] = await reads.every_tenants_numbers()
    numbers["held_here"] = held_open(request.app)  # this process's, by tenant: each replica its own
    numbers["trend"] = request.app[TRENDS].points(time.time())
    return json_response(numbers)


async def metrics_text(request: web.Request) -> web.Response:
    """Prometheus text: this process's counters and histograms, and the queue's gauges."""
    registry = request.app[METRICS]
    try:
        registry.set_queue(await request.app[QUEUE].reads.stats())
    except UNAVAILABLE:  # the gauges keep their last values; summarize_redis_up says they are stale
        registry.redis_up.set(0)
    return metrics_response(registry)


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: Redis answers, and this process hears finished jobs (its result listener is
    subscribed), without which ?wait= and event streams would hang until their timeouts."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PING_WITHIN_S):
            await request.app[REDIS].ping()
    except TimeoutError:
        detail = f"Redis did not answer PING within {PING_WITHIN_S:g} s"
        raise Problem(503, "redis-unavailable", "Service Unavailable", detail) from None
    if not request.app[HUB].listening:
        detail = "not subscribed to the result channel (yet): results would not reach waiting requests"
        raise Problem(503, "results-unavailable", "Service Unavailable", detail, {"Retry-After": "1"})
    return json_response({"status": "ready", "redis_ping_ms": round((time.perf_counter() - started) * 1000, 3)})


async def totals_sampler(app: web.Application) -> AsyncIterator[None]:
    """The totals every few seconds, so /stats has a minute of history to take rates from."""
    stopping = asyncio.Event()
    sampler = asyncio.create_task(_sample_totals(app, stopping), name="rates")
    yield
    stopping.set()  # as well as the cancellation, which redis-py can swallow (app/tasks.py)
    await tasks.stop(sampler)


async def _sample_totals(app: web.Application, stopping: asyncio.Event) -> None:
    reads, rates, trends = app[QUEUE].reads, app[RATES], app[TRENDS]
    while not stopping.is_set():
        with contextlib.suppress(*UNAVAILABLE):
            totals = await reads.totals()
            rates.add(time.monotonic(), totals)
            trends.sample(time.time(), totals, sum((await reads.waiting()).values()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SAMPLE_EVERY_S):
                await stopping.wait()
