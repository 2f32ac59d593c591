"""Cancels of running jobs: the control channel names them, each job's record confirms them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection

import redis.asyncio as aioredis

from app.connection.errors import lost_connection
from app.queue.contract import Keys, Status

log = logging.getLogger(__name__)

_CANCELLED = Status.CANCELLED.value.encode()


class CancelWatch:
    """Listens on the queue's control channel (cancel.lua names a job cancelled while it ran)
    and aborts each job this worker runs whose record says `cancelled`.

    Pub/Sub only wakes: the record decides, so a message anyone else publishes there aborts
    nothing; and each time the subscription is (re)confirmed, the records of every job
    running here are read again, since a cancel sent while disconnected is gone. One
    connection per worker process; cancels are rare, so the channel is quiet."""

    def __init__(
        self, redis: aioredis.Redis, keys: Keys, running: Callable[[], Collection[str]], abort: Callable[[str], None]
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._running = running
        self._abort = abort
        self.listening = False

    async def run(self, stopping: asyncio.Event) -> None:
        """Until `stopping` is set (it ends on the flag: redis-py can swallow a cancellation)."""
        backoff_s = 0.1
        while not stopping.is_set():
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._keys.control_channel)
                backoff_s = 0.1
                await self._pump(pubsub, stopping)
            except Exception as exc:  # whatever it is, cancels must not end for the worker's life
                if not lost_connection(exc):
                    log.exception("control listener failed; restarting it")
                else:
                    log.debug("control subscription lost; retrying", extra={"error": repr(exc)})
            finally:
                self.listening = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            if not stopping.is_set():
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, 2.0)

    async def _pump(self, pubsub: aioredis.client.PubSub, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            message = await pubsub.get_message(timeout=0.5)  # bounded: health checks, and the flag
            if message is None:
                continue
            named: set[str] = set()
            while message is not None:  # a burst of cancels is read at once, and checked in one round trip
                if message["type"] == "subscribe":
                    self.listening = True
                    named |= set(self._running())
                elif message["type"] == "message" and isinstance(message["data"], bytes):
                    named.add(message["data"].decode("utf-8", "replace"))
                message = await pubsub.get_message(timeout=0)
            await self._check(sorted(named & set(self._running())))

    async def _check(self, job_ids: list[str]) -> None:
        """Abort the jobs among `job_ids` whose record says they were cancelled."""
        if not job_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hget(self._keys.job(job_id), "status")
            statuses = await pipe.execute(raise_on_error=False)
        for job_id, status in zip(job_ids, statuses, strict=True):
            if status == _CANCELLED:
                self._abort(job_id)
