"""`make bench`: every workload, this project beside its peers in one run, one table of ratios.

Starts its own redis-server (persistence off) on a free port; W1-W3 run for this project
and for arq (defaults and tuned), SAQ and dramatiq through one harness (bench/peers);
W4, W5 and memory run for this project (bench/http_bench.py, bench/memory.py: a worker's RSS
per job in flight; bench/redis_memory.py: Redis's memory per finished job at rest). Prints
the table and writes it as JSON to bench/results/<timestamp>.json.

Usage: python -m bench [--quick]   (--quick: fewer jobs, for a smoke run)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from bench.http_bench import w4_intake, w5_end_to_end
from bench.memory import worker_rss_per_job
from bench.peers import w1_drain, w2_io, w3_latency
from bench.peers._process import OURS_PYTHON
from bench.redis_memory import redis_bytes_per_finished_job
from bench.sdk import sdk_alone
from tests.fakes.gemini_server import Answer, Delay, FakeGemini
from tests.redis_server import temporary_redis

PEERS = ["arq", "arq-tuned", "saq", "dramatiq"]
T = TypeVar("T")
RESULTS = Path(__file__).parent / "results"


async def measure_queues(url: str, scale: float) -> dict[str, dict[str, object]]:
    """W1, W2 (100 and 1000 at once) and W3 for us and each peer, in one run on one Redis."""
    w1, w2, w2_big, w3 = int(20_000 * scale), int(2_000 * scale), int(20_000 * scale), int(500 * scale)
    table: dict[str, dict[str, object]] = {}
    for peer in ["ours", *PEERS]:
        row: dict[str, object] = {}
        cut = 5 if peer == "arq" else 1  # arq's defaults start <= 10 jobs per 0.5 s poll: fewer jobs, same rate
        # A peer that fails a workload is a result, not the end of the run: its cell says what happened.
        row["W1 jobs/s"] = await _measured(peer, "W1", w1_drain(peer, url, w1 // cut, 100))
        row["W2 jobs/s"] = await _measured(peer, "W2", w2_io(peer, url, w2 // cut, 100, 0.05))
        if peer != "arq":  # never 1,000 at once with its defaults
            row["W2 big jobs/s"] = await _measured(peer, "W2 big", w2_io(peer, url, w2_big, 1000, 0.05))
        latency = await _measured(peer, "W3", w3_latency(peer, url, w3 // (8 if peer == "arq" else 1)))
        row["W3 p50 ms"], row["W3 p99 ms"] = latency if isinstance(latency, tuple) else (latency, latency)
        table[peer] = row
        print(f"{peer:<10} {_fmt(row)}", flush=True)
    # The real SDK path: nobody listening (a plain call), a listener on every job (streamed), and the
    # SDK alone with no queue around it, plain and streamed: the ceiling of each.
    async with FakeGemini(default=Delay(0.05, Answer("A summary."))) as gemini:
        for peer in ("ours+sdk", "ours+sdk+listener"):
            table[peer] = {"W2 jobs/s": await w2_io(peer, url, w2, 100, 0.05, gemini_url=gemini.base_url)}
            print(f"{peer:<10} {_fmt(table[peer])}", flush=True)
        for name, streamed in (("sdk alone", False), ("sdk alone streamed", True)):
            rate = await sdk_alone(gemini.base_url, w2, 100, streamed=streamed)
            table[name] = {"W2 jobs/s": rate}
            print(f"{name:<10} {_fmt(table[name])}", flush=True)
    return table


async def _measured(peer: str, workload: str, step: Awaitable[T]) -> T | str:
    """The step's figure, or what went wrong (the error's type and first line) as the row's cell: a
    peer that misbehaves is a result to report, not the end of the run."""
    try:
        return await step
    except Exception as exc:  # PeerError, a peer's library missing or changed: the run goes on
        first = f"{type(exc).__name__}: " + (str(exc).splitlines() or [""])[0][:120]
        print(f"{peer} {workload} failed: {first}", flush=True)
        return f"failed: {first}"


def _num(row: dict[str, object], column: str) -> float:
    """A row's figure, or NaN when its workload failed (the target is then not met)."""
    value = row.get(column)
    return float(value) if isinstance(value, (int, float)) else float("nan")


def _numbers(queues: dict[str, dict[str, object]], column: str) -> list[float]:
    return [float(row[column]) for row in queues.values() if isinstance(row.get(column), (int, float))]  # type: ignore[arg-type]


def _ratio(queues: dict[str, dict[str, object]], ours: str, ceiling: str) -> float:
    return _num(queues[ours], "W2 jobs/s") / _num(queues[ceiling], "W2 jobs/s")


def _fmt(row: dict[str, object]) -> str:
    return "  ".join(f"{k} {v:,.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())


def targets(queues: dict[str, dict[str, object]], http: dict[str, object], memory: dict[str, object]) -> list[dict]:
    """Each target of the issue, the measured value and whether it is met."""
    ours = queues["ours"]
    peers = {p: queues[p] for p in PEERS}
    best_w1 = max(_numbers(peers, "W1 jobs/s"), default=float("nan"))  # a failed peer's row has no figure
    best_big = max(_numbers(peers, "W2 big jobs/s"), default=float("nan"))
    ideal_w2, ideal_big = 100 / 0.05, 1000 / 0.05
    dramatiq_w2 = _num(queues["dramatiq"], "W2 jobs/s")
    rows = [
        ("W1 vs best peer", _num(ours, "W1 jobs/s") / best_w1, ">= 10x"),  # type: ignore[arg-type]
        ("W2 (100 at once) / ideal", _num(ours, "W2 jobs/s") / ideal_w2, ">= 0.97"),  # type: ignore[arg-type]
        ("W2 (100 at once) vs dramatiq", _num(ours, "W2 jobs/s") / dramatiq_w2, ">= 1.0x"),  # type: ignore[arg-type]
        ("W2 (1000 at once) / ideal", _num(ours, "W2 big jobs/s") / ideal_big, ">= 0.95"),  # type: ignore[arg-type]
        ("W2 (1000 at once) vs best peer", _num(ours, "W2 big jobs/s") / best_big, "(info)"),  # type: ignore[arg-type]
        ("W3 p50 ms", _num(ours, "W3 p50 ms"), "<= 0.7"),  # type: ignore[arg-type]
        ("W3 p99 ms", _num(ours, "W3 p99 ms"), "<= 1.5"),  # type: ignore[arg-type]
        # The real job: with a listener the call streams, as the SDK alone streamed; with nobody
        # listening it is a plain call, which should beat the streamed SDK ("stream only when someone listens").
        (
            "SDK path, listened / SDK alone streamed",
            _ratio(queues, "ours+sdk+listener", "sdk alone streamed"),
            ">= 0.95",
        ),
        ("SDK path, nobody listening / SDK alone streamed", _ratio(queues, "ours+sdk", "sdk alone streamed"), ">= 1.0"),
        ("SDK path, nobody listening / SDK alone plain", _ratio(queues, "ours+sdk", "sdk alone"), "(info)"),
        ("W4 service / bare aiohttp", float(http["w4"]["ratio_service_bare"]), ">= 0.80"),  # type: ignore[index]
        ("memory bytes per in-flight job", float(memory["bytes_per_job"]), "<= 10240 + text"),
        ("Redis bytes per finished job at rest", float(memory["redis"]["bytes_per_finished_job"]), "<= 600"),
    ]
    return [{"target": name, "value": value, "goal": goal, "met": _met(value, goal)} for name, value, goal in rows]


def _met(value: float, goal: str) -> bool | None:
    if goal.startswith(">="):
        return value >= float(goal.split()[1].rstrip("x"))
    if goal.startswith("<="):
        return value <= float(goal.split()[1])
    return None


def environment() -> dict[str, object]:
    """The machine, the peers' packages (this process's venv) and this project's (OURS_PYTHON's)."""
    versions = {name: _version(name) for name in ("redis", "hiredis", "arq", "saq", "dramatiq")}
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": _cpus(),
        "load average": os.getloadavg(),
        "peers": versions,
        "ours": _ours_versions(),
    }


def _ours_versions() -> dict[str, str]:
    names = ("redis", "hiredis", "aiohttp", "uvloop", "google-genai", "orjson")
    code = f"import json,importlib.metadata as m;print(json.dumps({{n: m.version(n) for n in {names!r}}}))"
    try:
        return json.loads(subprocess.run([OURS_PYTHON, "-c", code], capture_output=True, check=True, text=True).stdout)
    except (subprocess.CalledProcessError, ValueError, OSError):
        return {}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _cpus() -> int:
    return os.cpu_count() or 0


async def main(scale: float) -> int:
    with temporary_redis() as url:
        queues = await measure_queues(url, scale)
        http = {"w4": await w4_intake(url), "w5": await w5_end_to_end(url)}
        memory = await worker_rss_per_job(url)
        memory["redis"] = await redis_bytes_per_finished_job(url)
    report = {"environment": environment(), "queues": queues, "http": http, "memory": memory}
    report["targets"] = targets(queues, http, memory)
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / time.strftime("%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten to {path}")
    return 0


def _cell(value: object) -> str:
    if isinstance(value, str):  # a peer's failure, said in its cell
        return value
    if not isinstance(value, float | int):
        return "-"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def print_table(report: dict) -> None:
    print("\n| queue | W1 no-op jobs/s | W2 100x50ms jobs/s | W2 1000x50ms jobs/s | W3 p50 ms | W3 p99 ms |")
    print("|---|---|---|---|---|---|")
    for name, row in report["queues"].items():
        cells = [row.get(k) for k in ("W1 jobs/s", "W2 jobs/s", "W2 big jobs/s", "W3 p50 ms", "W3 p99 ms")]
        print(f"| {name} | " + " | ".join(_cell(c) for c in cells) + " |")
    w4, w5, memory = report["http"]["w4"], report["http"]["w5"], report["memory"]
    print(f"\nW4 intake: {w4}\nW5 end to end: {w5}\nmemory: {memory}")
    print("\n| target | measured | goal | met |\n|---|---|---|---|")
    for row in report["targets"]:
        met = {True: "yes", False: "no", None: "-"}[row["met"]]
        print(f"| {row['target']} | {row['value']:,.3f} | {row['goal']} | {met} |")
    print(f"\nenvironment: {report['environment']}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main(0.1 if "--quick" in sys.argv else 1.0)))
