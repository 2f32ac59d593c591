"""The worker runner: reserves jobs, runs up to WORKER_CONCURRENCY at once, records each ending."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable

from app.broker import BLOCK_S, UNAVAILABLE
from app.config import Settings
from app.protocol import done_event, failed_event
from app.queue import JobQueue, Reserved
from app.summarizers.base import Summarizer, SummarizerError

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Outage:
    """Backoff for Redis being unreachable, logging once per outage rather than per attempt."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.delay_s = 0.0

    async def hit(self, exc: BaseException) -> None:
        if self.delay_s == 0.0:
            log.warning("redis unreachable; retrying with backoff", extra={"during": self.what, "error": repr(exc)})
        self.delay_s = min(max(self.delay_s * 2, 0.05), 2.0)
        await asyncio.sleep(self.delay_s)

    def clear(self) -> None:
        if self.delay_s:
            log.info("redis reachable again", extra={"during": self.what})
        self.delay_s = 0.0


class Worker:
    """Runs jobs from one queue. Holds only its in-flight tasks; every job's state lives in Redis."""

    def __init__(self, settings: Settings, queue: JobQueue, summarizer: Summarizer, worker_id: str | None = None):
        self.settings = settings
        self.queue = queue
        self.summarizer = summarizer
        self.id = worker_id or new_worker_id()
        self._running: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._unstarted: list[bytes] = []  # reserved, but `start` did not get through
        self._stopping = asyncio.Event()

    @property
    def in_flight(self) -> int:
        return len(self._running)

    def stop(self) -> None:
        """Stop taking jobs; `run` then drains and returns."""
        self._stopping.set()

    async def run(self) -> None:
        """Take and run jobs until `stop()`, then let running jobs finish."""
        extra = {"worker_id": self.id, "concurrency": self.settings.worker_concurrency}
        log.info("worker started", extra=extra | {"summarizer": self.summarizer.name})
        reserving = asyncio.create_task(self._reserve_loop(), name="reserve")
        await self._stopping.wait()
        reserving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reserving
        await self._drain()
        log.info("worker stopped", extra={"worker_id": self.id})

    async def _drain(self) -> None:
        if self._running:
            await asyncio.wait(self._running, timeout=self.settings.shutdown_grace_s)

    async def _reserve_loop(self) -> None:
        outage = Outage("reserve")
        while True:
            free = self.settings.worker_concurrency - len(self._running)
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            try:
                raws = self._unstarted or await self.queue.reserve(self.id, free, BLOCK_S)
                self._unstarted = raws
                jobs = await self.queue.start(self.id, raws) if raws else []
                self._unstarted = []
            except UNAVAILABLE as exc:
                await outage.hit(exc)
                continue
            outage.clear()
            for job in jobs:
                self._launch(job)

    def _launch(self, job: Reserved) -> None:
        task = asyncio.create_task(self._run(job), name=f"job-{job.message.id}")
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slot_freed.set()

    async def _run(self, job: Reserved) -> None:
        started = time.time()
        job_id = job.message.id
        log.debug("job started", extra={"job_id": job_id, "attempt": job.attempt})
        try:
            async with asyncio.timeout(self.settings.job_timeout_s):
                summary = await self.summarizer.summarize(job.message.text)
        except SummarizerError as exc:
            await self._fail(job, started, str(exc))
        except TimeoutError:
            await self._fail(job, started, f"timed out after {self.settings.job_timeout_s:g} s (JOB_TIMEOUT)")
        except Exception as exc:  # a task boundary: a bug in one job must not stop the worker
            log.exception("job crashed", extra={"job_id": job_id})
            await self._fail(job, started, f"internal error: {type(exc).__name__}: {exc}")
        else:
            now = time.time()
            event = done_event(job_id, summary.text, summary.model, job.message.enqueued_at, started, now)
            await self._write_final(lambda: self.queue.complete(self.id, job, summary.text, summary.model, event))
            log.info("job done", extra={"job_id": job_id, "run_ms": round((now - started) * 1000, 1)})

    async def _fail(self, job: Reserved, started: float, error: str) -> None:
        now = time.time()
        event = failed_event(job.message.id, error, job.message.enqueued_at, started, now)
        await self._write_final(lambda: self.queue.fail(self.id, job, error, event))
        log.warning("job failed", extra={"job_id": job.message.id, "error": error})

    async def _write_final(self, write: Callable[[], Awaitable[bool]]) -> None:
        """Write a job's ending, riding out a Redis outage. Shielded: a shutdown that
        cancels the job must not cut its final write in half (the script is atomic,
        but the work would be lost and run again)."""
        await asyncio.shield(self._retry_until_written(write))

    async def _retry_until_written(self, write: Callable[[], Awaitable[bool]]) -> None:
        outage = Outage("final write")
        while True:
            try:
                await write()
            except UNAVAILABLE as exc:
                await outage.hit(exc)
                continue
            outage.clear()
            return
