"""Prometheus metrics of one process (API, worker, or both in ROLE=all), in a registry of its own."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# From a millisecond (a no-op job's run) to minutes (a long model call, a deep backlog).
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
CONTENT_TYPE = CONTENT_TYPE_LATEST
QUEUE_STATES = ("queued", "processing", "delayed", "dead")


class Metrics:
    """Counters and histograms are this process's own (Prometheus sums them over processes);
    the queue gauges are the whole queue's, read from Redis when the API is scraped."""

    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        self.enqueued = Counter("summarize_jobs_enqueued", "Jobs accepted by this API process", registry=registry)
        self.done = Counter("summarize_jobs_done", "Jobs this worker finished", registry=registry)
        self.failed = Counter("summarize_jobs_failed", "Jobs this worker failed for good", registry=registry)
        self.retried = Counter("summarize_jobs_retried", "Attempts this worker scheduled again", registry=registry)
        self.recovered = Counter(
            "summarize_jobs_recovered", "Jobs this worker put back from a dead worker", registry=registry
        )
        self.queue_wait = Histogram(
            "summarize_job_queue_wait_seconds", "From enqueue to start", buckets=SECONDS, registry=registry
        )
        self.run_time = Histogram(
            "summarize_job_run_seconds", "From start to done, per attempt", buckets=SECONDS, registry=registry
        )
        self.end_to_end = Histogram(
            "summarize_job_end_to_end_seconds", "From enqueue to done", buckets=SECONDS, registry=registry
        )
        self.in_flight = Gauge("summarize_jobs_in_flight", "Jobs this worker is running", registry=registry)
        self.queue = Gauge("summarize_queue_jobs", "Jobs of the queue by state", ["state"], registry=registry)
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
        self.cache_hits = Counter(
            "summarize_cache_hits", "Jobs answered by the result cache or a shared call", registry=registry
        )

    def set_queue(self, stats: dict[str, object]) -> None:
        for state in QUEUE_STATES:
            self.queue.labels(state).set(float(stats[state]))  # type: ignore[arg-type]

    def render(self) -> bytes:
        return generate_latest(self.registry)
