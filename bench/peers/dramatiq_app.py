"""The dramatiq broker and actors, built the same way by the bench (to send) and by the worker (to run)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend

QUEUE = "default"


def noop() -> None:
    return None


def io_sleep(delay_s: float) -> None:
    time.sleep(delay_s)  # dramatiq actors are sync: each runs in one of the worker's threads


def probe() -> None:
    """The W3 job: a no-op whose result is stored, so the client can wait on it."""
    return None


@dataclass(frozen=True)
class DramatiqApp:
    broker: RedisBroker
    results: RedisBackend
    noop: dramatiq.Actor
    io_sleep: dramatiq.Actor
    probe: dramatiq.Actor


def build(redis_url: str) -> DramatiqApp:
    """A Redis broker with the Results middleware (Redis backend), set as dramatiq's global broker."""
    broker = RedisBroker(url=redis_url)
    results = RedisBackend(url=redis_url)
    broker.add_middleware(Results(backend=results))
    dramatiq.set_broker(broker)
    return DramatiqApp(
        broker=broker,
        results=results,
        noop=dramatiq.actor(noop, broker=broker, queue_name=QUEUE),
        io_sleep=dramatiq.actor(io_sleep, broker=broker, queue_name=QUEUE),
        probe=dramatiq.actor(probe, broker=broker, queue_name=QUEUE, store_results=True),
    )
