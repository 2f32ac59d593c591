"""The lock-free hot-path metrics expose what prometheus_client's own types would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from app.metrics import LoopCounter, LoopHistogram

VALUES = [0.0005, 0.001, 0.002, 0.05, 0.05, 3.0, 1000.0]  # on a bound, between bounds, past the last
BUCKETS = (0.001, 0.01, 0.1, 1.0, 10.0)


def test_a_loop_histogram_renders_as_prometheus_clients_histogram() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    fast = LoopHistogram("h_seconds", "help", BUCKETS, ours)
    reference = Histogram("h_seconds", "help", buckets=BUCKETS, registry=theirs)
    for value in VALUES:
        fast.observe(value)
        reference.observe(value)
    rendered = [line for line in generate_latest(ours).decode().splitlines() if not line.startswith("#")]
    expected = [line for line in generate_latest(theirs).decode().splitlines() if not line.startswith("#")]
    assert rendered == [line for line in expected if not line.startswith("h_seconds_created")]


def test_a_loop_counter_counts() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("jobs", "help", registry)
    counter.inc()
    counter.inc(2)
    assert "jobs_total 3.0" in generate_latest(registry).decode()
