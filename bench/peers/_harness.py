"""What every peer adapter provides, and the two measurements built on it: a timed drain and sequential latency."""

from __future__ import annotations

import abc
import asyncio
import math
import time
from collections.abc import Awaitable
from typing import TypeVar

from bench.peers._process import PeerError, WorkerProcess, WorkerSpec

T = TypeVar("T")

POLL_S = 0.005  # how often the bench reads a peer's count of unfinished jobs
ENQUEUE_TIMEOUT_S = 180.0
STARTUP_TIMEOUT_S = 60.0  # the warm-up job of W3 waits for the worker to start
JOB_TIMEOUT_S = 10.0  # one W3 job, enqueue to observed completion
LATENCY_CONCURRENCY = 10  # the idle worker of W3: arq's and SAQ's default slots, dramatiq threads


class Peer(abc.ABC):
    """A peer queue seen through its own client API. `async with` opens and closes its connections."""

    name: str

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    async def __aenter__(self) -> Peer:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def flush(self) -> None:
        """FLUSHDB: each measurement starts from an empty database."""

    @abc.abstractmethod
    async def enqueue(self, count: int, delay_s: float | None, *, checked: bool = True) -> None:
        """Enqueue `count` jobs: no-ops when delay_s is None, else jobs that sleep delay_s.

        Jobs enqueued with checked=True are the ones check_results samples (the warm-up job is not).
        """

    @abc.abstractmethod
    async def remaining(self) -> int:
        """How many enqueued jobs are not finished (queued or running), read from the peer's own state."""

    @abc.abstractmethod
    async def check_results(self) -> None:
        """After a drain: raise PeerError if checked jobs did not succeed (the peer may count failed jobs as done)."""

    @abc.abstractmethod
    async def run_one(self) -> None:
        """Enqueue one no-op job and return once the client sees it complete, the peer's normal way."""

    @abc.abstractmethod
    def worker_spec(self, concurrency: int) -> WorkerSpec: ...


async def guarded(worker: WorkerProcess, step: Awaitable[T], timeout_s: float, what: str) -> T:
    """Await `step`, failing fast if the worker dies and with PeerError after timeout_s."""
    task = asyncio.ensure_future(step)
    deadline = time.perf_counter() + timeout_s
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=0.1)
            if task.done():
                break
            worker.check_alive()
            if time.perf_counter() > deadline:
                raise PeerError(
                    f"{worker.name}: {what} not done after {timeout_s:.0f} s; worker output ends:\n{worker.tail()}"
                )
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _timed_drain(peer: Peer, worker: WorkerProcess, total: int, timeout_s: float) -> float:
    """Poll the peer's unfinished count; the clock runs from the first completion seen to the last."""
    deadline = time.perf_counter() + timeout_s
    started_at: float | None = None
    left_at_start = 0
    while True:
        left = await peer.remaining()
        now = time.perf_counter()
        if started_at is None and left < total:
            started_at, left_at_start = now, left
        if left == 0:
            break
        worker.check_alive()
        if now > deadline:
            raise PeerError(
                f"{peer.name}: {left} of {total} jobs unfinished after {timeout_s:.0f} s; "
                f"worker output ends:\n{worker.tail()}"
            )
        await asyncio.sleep(POLL_S)
    if started_at is None or left_at_start == 0:
        raise PeerError(f"{peer.name}: all {total} jobs finished within one {POLL_S * 1000:.0f} ms poll; use more jobs")
    return left_at_start / (now - started_at)


async def drain(peer: Peer, jobs: int, concurrency: int, delay_s: float | None, timeout_s: float) -> float:
    """Jobs/s of one worker process draining `jobs` jobs enqueued before it started (warm-up excluded)."""
    async with peer:
        await peer.flush()
        await asyncio.wait_for(peer.enqueue(1, None, checked=False), ENQUEUE_TIMEOUT_S)  # warm-up job, first in line
        await asyncio.wait_for(peer.enqueue(jobs, delay_s), ENQUEUE_TIMEOUT_S)
        async with WorkerProcess(peer.name, peer.worker_spec(concurrency)) as worker:
            rate = await _timed_drain(peer, worker, jobs + 1, timeout_s)
        await peer.check_results()
    return rate


def print_figures(title: str, figures: dict[str, float]) -> None:
    """A probe's result as the bench prints it: a title, then a figure a line."""
    print(title)
    width = max(map(len, figures), default=0) + 2
    for name, value in figures.items():
        print(f"  {name:<{width}} {value:,.2f}")


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


async def latency(peer: Peer, jobs: int) -> tuple[float, float]:
    """p50 and p99 in ms of `jobs` sequential jobs, enqueue to completion seen by the client, on a warm idle worker."""
    samples_ms: list[float] = []
    async with peer:
        await peer.flush()
        async with WorkerProcess(peer.name, peer.worker_spec(LATENCY_CONCURRENCY)) as worker:
            await guarded(worker, peer.run_one(), STARTUP_TIMEOUT_S, "the warm-up job")
            for _ in range(jobs):
                started = time.perf_counter()
                await guarded(worker, peer.run_one(), JOB_TIMEOUT_S, "a latency job")
                samples_ms.append((time.perf_counter() - started) * 1000)
    samples_ms.sort()
    return percentile(samples_ms, 0.50), percentile(samples_ms, 0.99)
