"""One Pub/Sub subscription per API process, fanning finished-job events out to waiters by id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Final

import orjson
import redis.asyncio as aioredis

from app import tasks
from app.connection.errors import lost_connection
from app.queue.contract import Keys

log = logging.getLogger(__name__)

# A flood of foreign messages on our channels is one log line a minute, with its count.
IGNORED_LOG_EVERY_S: Final = 60.0


class ResultHub:
    """Routes `job_result` events (and, for progress listeners, `job_result:progress`
    wake-ups) to the coroutines waiting for those job ids.

    A subscription costs a connection, so there is one per process, not one per
    request (as SAQ's PubSubMultiplexer). Pub/Sub is only a wake-up: a waiter
    registers before it reads the record, so an event that lands between its read
    and its wait still wakes it; and each time the subscription is (re)confirmed
    every waiter is woken to read the record again, since events sent while
    disconnected are gone.

    Anyone may publish on these channels: a message that is not a job event is
    counted and skipped (logged at most once a minute, with the count), never fatal.
    The listener is supervised: whatever ends it, it starts again, and `listening`
    (the /readyz check) is false until it is subscribed again.
    """

    def __init__(self, redis: aioredis.Redis, channel: str, progress_channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._progress_channel = progress_channel.encode()
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        # Listeners that also want each piece of progress (SSE); woken by both channels.
        self._listeners: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.closing = False
        self.ignored = 0  # messages on our channels that were not job events
        # Called with each job event heard (the dashboard's trends), before its waiters wake.
        self.on_event: Callable[[dict[str, object]], None] | None = None
        self._ignored_logged = 0
        self._ignored_logged_at = -float("inf")

    @classmethod
    def of(cls, redis: aioredis.Redis, keys: Keys) -> ResultHub:
        """The hub of a queue's result and progress channels."""
        return cls(redis, keys.channel, keys.progress_channel)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="result-hub")

    @property
    def listening(self) -> bool:
        """Subscribed now: finished jobs wake their waiters as they end."""
        return self._subscribed.is_set()

    async def stop(self) -> None:
        self.closing = True  # the listener's loops end on it too: a cancellation can be swallowed
        self.wake_all()
        await tasks.stop(self._task)

    @contextlib.asynccontextmanager
    async def waiter(self, job_id: str, *, progress: bool = False) -> AsyncIterator[asyncio.Event]:
        """An event set when `job_id` may have ended (or, with `progress`, written more of its
        summary): register, then read the record, then wait."""
        event = asyncio.Event()
        registry = self._listeners if progress else self._waiters
        registry[job_id].add(event)
        try:
            yield event
        finally:
            waiting = registry.get(job_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del registry[job_id]

    def wake_all(self) -> None:
        for registry in (self._waiters, self._listeners):
            for waiting in registry.values():
                for event in waiting:
                    event.set()

    def _wake(self, job_id: str, *, ended: bool) -> None:
        for event in self._listeners.get(job_id, ()):
            event.set()
        if ended:
            for event in self._waiters.get(job_id, ()):
                event.set()

    def _dispatch(self, channel: bytes, data: object) -> None:
        if not isinstance(data, bytes):
            return self._ignore(channel, data)
        if channel == self._progress_channel:
            return self._wake(data.decode("utf-8", "replace"), ended=False)
        try:
            event = orjson.loads(data)
            job_id = event["id"]
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            job_id = None
        if not isinstance(job_id, str):
            return self._ignore(channel, data)
        if self.on_event is not None:
            self.on_event(event)
        self._wake(job_id, ended=True)

    def _ignore(self, channel: bytes, data: object) -> None:
        self.ignored += 1
        now = time.monotonic()
        if now - self._ignored_logged_at >= IGNORED_LOG_EVERY_S:
            extra = {
                "channel": channel.decode("utf-8", "replace"),
                "since_last_line": self.ignored - self._ignored_logged,
            }
            extra |= {"ignored_total": self.ignored, "bytes": len(data) if isinstance(data, bytes) else None}
            log.warning("message on a result channel ignored: not a job event", extra=extra)
            self._ignored_logged, self._ignored_logged_at = self.ignored, now

    async def _listen(self) -> None:
        backoff_s = 0.1
        while not self.closing:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel, self._progress_channel)
                if backoff_s > 0.1:
                    log.info("result subscription restored", extra={"channel": self._channel})
                backoff_s = 0.1
                await self._pump(pubsub)
            except Exception as exc:  # whatever it is, result delivery must not end for the process's life
                if not lost_connection(exc):
                    log.exception("result listener failed; restarting it")
                elif backoff_s == 0.1:
                    log.warning("result subscription lost; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, 2.0)
            finally:
                self._subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _pump(self, pubsub: aioredis.client.PubSub) -> None:
        while not self.closing:
            # A bounded wait lets redis-py run its health-check PING, so a silently
            # dead connection is noticed instead of waited on forever.
            message = await pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            if message["type"] == "message":
                self._dispatch(message["channel"], message["data"])
            elif message["type"] == "subscribe":
                # Confirmed, at start or after redis-py re-subscribed on its own following
                # a dropped connection: events from now on arrive, but any sent while we
                # were not listening are gone, so every waiter reads its record again.
                self._subscribed.set()
                self.wake_all()

    async def wait_subscribed(self, timeout_s: float) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                await self._subscribed.wait()
        except TimeoutError:
            return False
        return True
