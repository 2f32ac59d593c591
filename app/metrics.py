"""Prometheus metrics of one process (API, worker, or both in ROLE=all), in a registry of its own."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

# From a millisecond (a no-op job's run) to minutes (a long model call, a deep backlog).
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
CONTENT_TYPE = CONTENT_TYPE_LATEST
QUEUE_STATES = ("queued", "processing", "delayed", "dead")


class LoopHistogram:
    """A histogram for the per-job hot path, updated from the event loop's one thread only:
    plain lists and no lock. prometheus_client's Histogram takes a lock per observation
    (~1.5 us, a tenth of a no-op job's worker CPU); this is a bisect and two additions.
    Exposed through prometheus_client as a custom collector, so the text format is its."""

    def __init__(self, name: str, documentation: str, buckets: Sequence[float], registry: CollectorRegistry) -> None:
        self._name, self._documentation = name, documentation
        self._bounds = list(buckets)
        self._counts = [0] * (len(self._bounds) + 1)  # the last is +Inf
        self._sum = 0.0
        registry.register(self)

    def observe(self, value: float) -> None:
        self._counts[bisect_left(self._bounds, value)] += 1  # "le": a value on a bound counts in it
        self._sum += value

    def collect(self) -> Iterator[Metric]:
        cumulative, buckets = 0, []
        for bound, count in zip([*map(str, self._bounds), "+Inf"], self._counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        yield HistogramMetricFamily(self._name, self._documentation, buckets=buckets, sum_value=self._sum)


class LoopCounter:
    """A counter for the per-job hot path, like LoopHistogram: one loop, no lock."""

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self._name, self._documentation = name, documentation
        self._value = 0.0
        registry.register(self)

    def inc(self, amount: float = 1.0) -> None:
        self._value += amount

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self._name, self._documentation, value=self._value)


class Metrics:
    """Counters and histograms are this process's own (Prometheus sums them over processes);
    the queue gauges are the whole queue's, read from Redis when the API is scraped. Every
    update happens on the process's event loop thread."""

    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        self.enqueued = LoopCounter("summarize_jobs_enqueued", "Jobs accepted by this API process", registry)
        self.done = LoopCounter("summarize_jobs_done", "Jobs this worker finished", registry)
        self.failed = Counter("summarize_jobs_failed", "Jobs this worker failed for good", registry=registry)
        self.retried = Counter("summarize_jobs_retried", "Attempts this worker scheduled again", registry=registry)
        self.recovered = Counter(
            "summarize_jobs_recovered", "Jobs this worker put back from a dead worker", registry=registry
        )
        self.queue_wait = LoopHistogram("summarize_job_queue_wait_seconds", "From enqueue to start", SECONDS, registry)
        self.run_time = LoopHistogram("summarize_job_run_seconds", "From start to done, per attempt", SECONDS, registry)
        self.end_to_end = LoopHistogram("summarize_job_end_to_end_seconds", "From enqueue to done", SECONDS, registry)
        self.in_flight = Gauge("summarize_jobs_in_flight", "Jobs this worker is running", registry=registry)
        self.queue = Gauge("summarize_queue_jobs", "Jobs of the queue by state", ["state"], registry=registry)
        self.waiting_by_priority = Gauge(
            "summarize_queue_waiting_by_priority", "Jobs waiting to start, by priority", ["priority"], registry=registry
        )
        self.waiting_by_tenant = Gauge(
            "summarize_queue_waiting_by_tenant", "Jobs waiting to start, by tenant", ["tenant"], registry=registry
        )
        self.model_calls = Counter(
            "summarize_model_calls", "Model calls by outcome: ok, error, quota", ["model", "outcome"], registry=registry
        )
        self.tokens = Counter(
            "summarize_model_tokens", "Tokens used, by kind (prompt, output)", ["model", "kind"], registry=registry
        )
        self.limiter_wait = Histogram(
            "summarize_limiter_wait_seconds",
            "Time calls waited for the shared quota (GEMINI_RPM, GEMINI_TPM, 429 cool-downs)",
            buckets=SECONDS,
            registry=registry,
        )
        self.fallbacks = Counter(
            "summarize_model_fallbacks",
            "Attempts that passed a model over for the next: overloaded, quota, cooling",
            ["model", "reason"],
            registry=registry,
        )
        self.webhooks = Counter(
            "summarize_webhook_deliveries",
            "Webhook attempts by outcome: delivered, failed (to be retried), dead (given up)",
            ["outcome"],
            registry=registry,
        )
        self.webhooks_held = Gauge(
            "summarize_webhooks", "Webhook deliveries pending (or under way) and dead", ["state"], registry=registry
        )
        self.cache_hits = Counter(
            "summarize_cache_hits", "Jobs answered by the result cache or a shared call", registry=registry
        )
        self.dead_written = Gauge(
            "summarize_dead_letters_written",
            "Entries ever put on the dead list (it only grows; the list itself is capped and ages out)",
            registry=registry,
        )
        self.redis_up = Gauge(
            "summarize_redis_up",
            "1 when this scrape read the queue's numbers from Redis, 0 when it could not",
            registry=registry,
        )
        self.workers = Gauge(
            "summarize_workers",
            "Registered workers, by whether their heartbeat is current",
            ["alive"],
            registry=registry,
        )
        self.batch = Gauge(
            "summarize_batch",
            "The batch lane: jobs waiting to join a batch, batches in flight, the oldest batch's age (s)",
            ["what"],
            registry=registry,
        )

    def set_queue(self, stats: dict[str, object]) -> None:
        for state in QUEUE_STATES:
            self.queue.labels(state).set(float(stats[state]))  # type: ignore[arg-type]
        pairs = ((self.waiting_by_priority, "queued_by_priority"), (self.waiting_by_tenant, "queued_by_tenant"))
        for gauge, by in pairs:
            gauge.clear()  # a tenant whose lanes emptied leaves the series, not a stale number
            for label, depth in stats[by].items():  # type: ignore[attr-defined]
                gauge.labels(label).set(float(depth))
        for what, value in stats["batch"].items():  # type: ignore[attr-defined]
            self.batch.labels(what).set(float(value))
        self.dead_written.set(float(stats["dead_written"]))  # type: ignore[arg-type]
        for what, value in stats["webhooks"].items():  # type: ignore[attr-defined]
            self.webhooks_held.labels(what).set(float(value))
        self.redis_up.set(1)
        alive = sum(1 for row in stats["workers"] if row["alive"])  # type: ignore[attr-defined]
        self.workers.labels("true").set(alive)
        self.workers.labels("false").set(len(stats["workers"]) - alive)  # type: ignore[arg-type]

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_response(metrics: Metrics) -> web.Response:
    """A registry in the Prometheus text format, as the API and a worker's port serve it."""
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})
