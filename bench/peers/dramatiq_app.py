"""The dramatiq broker and actors, built the same way by the bench (to send) and by the worker (to run).

Configured as dramatiq's docs show (dramatiq 2.2.1): a `RedisBroker(url=...)` with dramatiq's default middleware,
plus the `Results` middleware on a `RedisBackend` ("Storing message results" in the cookbook: add `Results` to the
broker, declare the actor with `store_results=True`, wait with `message.get_result(backend=..., block=True)`), set as
the global broker that the `dramatiq` CLI loads. Only the W3 actor stores results: the drains need none. How many
messages run at once is the worker's thread count (see dramatiq_peer.DramatiqPeer.worker_spec).
"""

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
