"""Run W1, W2, W2 big and W3 for every peer against a redis-server of its own, and print the numbers.

Usage (from the repo root, so `tests` is importable): python -m bench.peers [PEER ...]   (default: all of PEERS)

Plain arq starts at most max_jobs=10 jobs per 0.5 s poll, so it gets fewer jobs where the full count would take
minutes, and no W2 big (1000 jobs at once is not what its defaults do); each such cut is printed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.peers import PEERS, PeerError, w1_drain, w2_io, w3_latency
from tests.redis_server import RedisServer

ARQ_DEFAULTS_NOTE = "arq defaults run <= 10 jobs per 0.5 s poll"


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    jobs: int
    concurrency: int = 0
    delay_s: float | None = None


WORKLOADS = [
    Workload("W1", "no-op drain", 20_000, 100),
    Workload("W2", "50 ms sleep drain", 2_000, 100, 0.05),
    Workload("W2 big", "50 ms sleep drain", 20_000, 1_000, 0.05),
    Workload("W3", "sequential latency", 300),
]

# (peer, workload) -> jobs to use instead (0: skip), and why.
CUTS: dict[tuple[str, str], tuple[int, str]] = {
    ("arq", "W1"): (4_000, f"{ARQ_DEFAULTS_NOTE}: 20,000 would take ~100 s"),
    ("arq", "W2"): (400, f"{ARQ_DEFAULTS_NOTE}: 2,000 would take ~100 s"),
    ("arq", "W2 big"): (0, f"skipped: {ARQ_DEFAULTS_NOTE}, never 1,000 at once (see arq-tuned)"),
    ("arq", "W3"): (60, "Job.result polls every 0.5 s: 300 would take ~150 s"),
}


def describe(work: Workload, jobs: int) -> str:
    if work.delay_s is None and work.concurrency == 0:
        return f"{work.key} {work.title}, {jobs:,} jobs"
    return f"{work.key} {work.title}, {jobs:,} jobs, concurrency {work.concurrency:,}"


def measurement(peer: str, url: str, work: Workload, jobs: int) -> Callable[[], Awaitable[float | tuple[float, float]]]:
    if work.key == "W3":
        return lambda: w3_latency(peer, url, jobs)
    if work.delay_s is None:
        return lambda: w1_drain(peer, url, jobs, work.concurrency)
    return lambda: w2_io(peer, url, jobs, work.concurrency, work.delay_s)


def show(value: float | tuple[float, float]) -> str:
    if isinstance(value, tuple):
        return f"p50 {value[0]:.2f} ms, p99 {value[1]:.2f} ms"
    return f"{value:,.0f} jobs/s"


async def run_one(peer: str, url: str, work: Workload) -> str:
    """Run one (peer, workload) and return the cell for the summary; prints a line as it goes."""
    jobs, note = CUTS.get((peer, work.key), (work.jobs, ""))
    label = f"{peer:<10} {describe(work, jobs or work.jobs)}"
    if jobs == 0:
        print(f"{label}: {note}", flush=True)
        return "skipped"
    started = time.perf_counter()
    try:
        value = await measurement(peer, url, work, jobs)()
    except (PeerError, TimeoutError) as exc:
        print(f"{label}: FAILED: {exc}", flush=True)
        return "FAILED"
    cell = show(value) + (f" ({jobs:,} jobs)" if jobs != work.jobs else "")
    suffix = f"  [{time.perf_counter() - started:.1f} s]" + (f"  ({note})" if note else "")
    print(f"{label}: {show(value)}{suffix}", flush=True)
    return cell


def print_summary(results: dict[str, dict[str, str]]) -> None:
    keys = [work.key for work in WORKLOADS]
    print("\n| peer | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for peer, cells in results.items():
        print(f"| {peer} | " + " | ".join(cells.get(key, "") for key in keys) + " |")


async def main(peers: list[str]) -> int:
    started = time.perf_counter()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            print(f"redis-server on {server.url}, persistence off", flush=True)
            for peer in peers:
                results[peer] = {work.key: await run_one(peer, server.url, work) for work in WORKLOADS}
        finally:
            server.stop()
    print_summary(results)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 1 if any("FAILED" in cells.values() for cells in results.values()) else 0


if __name__ == "__main__":
    chosen = sys.argv[1:] or PEERS
    unknown = [name for name in chosen if name not in PEERS]
    if unknown:
        sys.exit(f"unknown peer(s) {unknown}; choose from {PEERS}")
    sys.exit(asyncio.run(main(chosen)))
