"""The dashboard's last hour (app/api/trends.py): a point a minute, from samples and result events."""

from __future__ import annotations

from app.api.trends import SAMPLES_A_MINUTE, Trends

T0 = 1_800_000_000.0  # a minute's start


def test_a_point_a_minute_with_throughput_queue_and_latency() -> None:
    trends = Trends()
    trends.sample(T0 + 1, {"done": 10, "failed": 1}, queued=5)
    trends.sample(T0 + 50, {"done": 14, "failed": 1}, queued=9)
    for seconds in (1.0, 2.0, 3.0, 4.0):
        trends.observe(T0 + 30, {"id": "x", "status": "done", "queued_s": seconds, "run_s": 0.5})
    trends.observe(T0 + 30, {"id": "y", "status": "cancelled"})  # no timing: not a latency
    trends.sample(T0 + 65, {"done": 20, "failed": 3}, queued=2)
    first, second = trends.points(T0 + 70)
    assert first == {"t": T0, "queued": 9, "done": 4, "failed": 0, "p50_s": 3.5, "p95_s": 4.5}
    assert second == {"t": T0 + 60, "queued": 2, "done": 6, "failed": 2}, "counted from the minute before"


def test_an_hour_is_kept_and_a_busy_minute_keeps_a_sample_of_its_latencies() -> None:
    trends = Trends()
    for minute in range(90):
        trends.sample(T0 + 60 * minute, {"done": minute}, queued=minute)
    points = trends.points(T0 + 60 * 89)
    assert len(points) == 60 and points[0]["t"] == T0 + 60 * 30 and points[-1]["queued"] == 89
    for i in range(5 * SAMPLES_A_MINUTE):
        trends.observe(T0 + 60 * 89, {"id": str(i), "queued_s": 0.0, "run_s": float(i % 10)})
    last = trends.points(T0 + 60 * 89)[-1]
    assert 3 <= float(last["p50_s"]) <= 6 and float(last["p95_s"]) == 9.0  # type: ignore[arg-type]
