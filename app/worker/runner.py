"""The worker runner: reserves jobs, runs up to WORKER_CONCURRENCY at once, records each ending."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TypeVar

import orjson

from app import tasks
from app.config import Settings
from app.connection.factory import BLOCK_S, UNAVAILABLE
from app.metrics import Metrics
from app.model.cache import ResultCache
from app.model.layer import ModelLayer, Prices, outcome
from app.model.limiter import RateLimiter
from app.model.summarizers.base import Emit, Summarizer, SummarizerError, Summary
from app.queue.batching import GroupCommit
from app.queue.contract import done_event, failed_event
from app.queue.store import Completion, Delta, JobQueue, Reserved, Taken, mark_duplicates

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often due retries are moved to the queue: the most a retry waits past its time.
PROMOTE_EVERY_S = 0.25
# At shutdown, how long to try to put unfinished jobs back before leaving them to recovery.
HAND_BACK_S = 10.0
# At shutdown, how long the reserve and upkeep loops get to end by themselves: a blocking
# read (BLOCK_S) or one command's socket timeout, and some slack.
LOOPS_END_S = 8.0


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


def backoff_s(attempt: int, base_s: float, cap_s: float, asked_s: float | None) -> float:
    """Exponential backoff with full jitter (spreads a herd of retries), capped; a
    delay the model asked for wins when it is longer."""
    jittered = random.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1)))
    return max(jittered, asked_s or 0.0)


class Worker:
    """Runs jobs from one queue. Holds only its in-flight tasks; every job's state lives in Redis."""

    def __init__(
        self,
        settings: Settings,
        queue: JobQueue,
        summarizer: Summarizer,
        worker_id: str | None = None,
        metrics: Metrics | None = None,
    ):
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.queue = queue
        self.summarizer = summarizer
        self.id = worker_id or new_worker_id()
        self._running: set[asyncio.Task[None]] = set()  # until the job's ending is written
        self._active: set[str] = set()  # ids of the jobs running here: a second message of one is a duplicate
        self._calls = 0  # jobs in their summarizer call: what WORKER_CONCURRENCY bounds
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._giving_up = False  # past the hand-back time: writes stop retrying
        self._reachable_since = time.monotonic()
        self._beaten_at = -float("inf")
        self._writes: set[asyncio.Task[object]] = set()  # final writes a cancellation must not cut
        self._completions = GroupCommit[Completion, None](self._complete_batch)
        # Pieces of summaries as they are written, from every job at once, share round trips.
        self._progress = GroupCommit[Delta, None](queue.add_progress_many)
        self.model = _model_layer(settings, queue, summarizer, self.metrics)
        self.metrics.in_flight.set_function(lambda: self._calls)
        self._prices = Prices(settings.gemini_price_input_per_m, settings.gemini_price_output_per_m)
        # Model calls by deadline: one sweeper instead of a timer per job. Every job gets
        # the same JOB_TIMEOUT, so insertion order is deadline order. The sweeper removes
        # the calls it cancels: a call no longer listed here was cancelled for its deadline.
        self._deadlines: dict[asyncio.Task[None], float] = {}
        self._info = orjson.dumps(
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": time.time(),
                "ttl_ms": round(settings.heartbeat_ttl_s * 1000),  # /stats: the heartbeat's age is ttl - pttl
            }
        )

    def stop(self) -> None:
        """Stop taking jobs; `run` then drains, hands back what is left, and returns."""
        self._stopping.set()
        self._slot_freed.set()  # a reserve loop waiting for a free slot looks at the flag

    async def run(self) -> None:
        """Take and run jobs until `stop()`; then give running jobs SHUTDOWN_GRACE
        seconds, put the rest back at the front of the queue, and deregister. Returns
        within LOOPS_END_S + SHUTDOWN_GRACE + HAND_BACK_S of `stop()` whatever Redis does
        meanwhile (about BLOCK_S + SHUTDOWN_GRACE + HAND_BACK_S unless Redis hangs)."""
        extra = {"worker_id": self.id, "concurrency": self.settings.worker_concurrency}
        await self.summarizer.start()
        log.info("worker started", extra=extra | {"summarizer": self.summarizer.name})
        registering = asyncio.create_task(self._retry_until_written(self._beat), name="register")
        stopped = asyncio.create_task(self._stopping.wait(), name="stop")
        await asyncio.wait([registering, stopped], return_when=asyncio.FIRST_COMPLETED)
        if not registering.done():  # stopped before Redis ever answered: nothing taken, nothing to hand back
            self._giving_up = True
            await tasks.stop(registering)
            log.info("worker stopped before it registered", extra={"worker_id": self.id})
            return
        redis_loops = [
            asyncio.create_task(self._reserve_loop(), name="reserve"),
            asyncio.create_task(self._upkeep_loop(), name="upkeep"),
        ]
        deadlines = asyncio.create_task(self._deadline_loop(), name="deadlines")
        await stopped
        # The Redis loops end on the flag, not by cancellation: a cancelled command may
        # already be on its way and land after the hand-back (a BLMOVE served after requeue
        # leaves a message on the list of a worker nobody recovers; a beat after deregistration
        # revives it). Only a loop that outlives LOOPS_END_S is cancelled (app/tasks.py).
        await asyncio.wait(redis_loops, timeout=LOOPS_END_S)
        for task in (*redis_loops, deadlines):
            await tasks.stop(task)
        await self._drain()
        log.info("worker stopped", extra={"worker_id": self.id})

    async def _drain(self) -> None:
        if self._running:
            await asyncio.wait(self._running, timeout=self.settings.shutdown_grace_s)
        unfinished = list(self._running)
        for task in unfinished:
            task.cancel()
        # The cancelled jobs' endings, the batched completions and pieces: written if Redis
        # takes them within half the hand-back time; else their jobs run again after recovery.
        flushes = [asyncio.create_task(self._completions.flush()), asyncio.create_task(self._progress.flush())]
        writing = [*unfinished, *self._writes, *flushes]
        _, unwritten = await asyncio.wait(writing, timeout=HAND_BACK_S / 2) if writing else (set(), set())
        handing_back = asyncio.create_task(self._retry_until_written(lambda: self.queue.requeue(self.id, orphan=False)))
        await asyncio.wait([handing_back], timeout=HAND_BACK_S / 2)
        self._giving_up = True  # whatever still retries a write stops at its next failure
        for task in (*unwritten, handing_back):
            task.cancel()
        await self.model.aclose()
        if not handing_back.done() or handing_back.cancelled() or handing_back.exception() is not None:
            # Redis is away: the jobs stay in our processing list, and the first worker
            # to see our heartbeat lapse puts them back.
            log.error("could not hand back unfinished jobs; recovery will", extra={"worker_id": self.id})
            return
        moved = handing_back.result()
        if unfinished or moved:
            log.info("handed back unfinished jobs", extra={"worker_id": self.id, "jobs": moved})

    async def _beat(self) -> None:
        await self.queue.beat(self.id, self.settings.heartbeat_ttl_s, self._info)
        self._beaten_at = time.monotonic()

    @property
    def healthy(self) -> bool:
        """Its heartbeat is current: the loop runs and Redis takes its writes."""
        return time.monotonic() - self._beaten_at < self.settings.heartbeat_ttl_s

    async def _upkeep_loop(self) -> None:
        """Heartbeat, recovery of dead workers' jobs, promotion of due retries."""
        outage = Outage("upkeep")
        beat_every_s = self.settings.heartbeat_s
        next_beat = 0.0
        while not self._stopping.is_set():  # as well as cancelled: redis-py can swallow a cancellation
            try:
                now = time.monotonic()
                if now >= next_beat:  # an outage is this loop's own to ride out, with the rest of upkeep
                    await self._beat()
                    await self._recover_orphans()
                    next_beat = now + beat_every_s
                await self.queue.promote_due()
            except UNAVAILABLE as exc:
                await outage.hit(exc)
                self._reachable_since = time.monotonic()
                continue
            outage.clear()
            await asyncio.sleep(min(PROMOTE_EVERY_S, beat_every_s))

    async def _recover_orphans(self) -> None:
        # After an outage every heartbeat may have lapsed at once; give live workers
        # a full heartbeat TTL to beat again before calling anyone dead.
        if time.monotonic() - self._reachable_since < self.settings.heartbeat_ttl_s:
            return
        for worker_id in await self.queue.orphaned_workers(self.id):
            moved = await self.queue.requeue(worker_id, orphan=True)
            if moved > 0:
                self.metrics.recovered.inc(moved)
            if moved >= 0:
                log.warning("recovered jobs of a dead worker", extra={"dead_worker": worker_id, "jobs": moved})

    async def _deadline_loop(self) -> None:
        """Cancel model calls past JOB_TIMEOUT (at most one sweep late)."""
        every_s = min(0.1, self.settings.job_timeout_s / 10)
        while not self._stopping.is_set():
            await asyncio.sleep(every_s)
            now = time.monotonic()
            while self._deadlines:
                task, deadline = next(iter(self._deadlines.items()))
                if deadline > now:
                    break  # the rest are later
                del self._deadlines[task]
                task.cancel()

    async def _timed(self, call: Awaitable[Summary]) -> Summary:
        """The summarizer call, bounded by JOB_TIMEOUT (TimeoutError) through the sweeper."""
        task = asyncio.current_task()
        assert task is not None
        self._deadlines[task] = time.monotonic() + self.settings.job_timeout_s
        try:
            return await call
        except asyncio.CancelledError:
            if task not in self._deadlines and task.uncancel() == 0:
                raise TimeoutError from None
            raise  # a shutdown, not (only) the deadline
        finally:
            self._deadlines.pop(task, None)

    async def _reserve_loop(self) -> None:
        """Fill free slots. Starting a batch runs beside the next reservation, so under
        load a freed slot waits for one round trip, not two."""
        outage = Outage("reserve")
        while not self._stopping.is_set():  # as well as cancelled: redis-py can swallow a cancellation
            free = self.settings.worker_concurrency - self._calls
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            try:
                raws = await self.queue.reserve(self.id, free, BLOCK_S)
            except UNAVAILABLE as exc:
                await outage.hit(exc)
                continue
            outage.clear()
            if raws and not self._stopping.is_set():  # taken as the worker stops: handed back unstarted
                self._calls += len(raws)  # the slots are theirs from now, started or not
                self._track(self._start_batch(self.queue.prepare(raws)), "start")

    async def _start_batch(self, taken: list[Taken]) -> None:
        # Claimed before the first await: batches start concurrently, and a second message of
        # a job this worker is starting or running is a duplicate, never a retried start.
        taken = mark_duplicates(taken, self._active)
        claimed = {item.message.id for item in taken if item.message is not None}
        self._active |= claimed
        # Retried through an outage with the same prepared batch: start is idempotent for it.
        try:
            jobs = await self._retry_until_written(lambda: self.queue.start(self.id, taken))
        except Exception:  # not an outage: a message no script expected; it must not hold the rest
            log.exception("batch could not start; starting its messages one by one", extra={"jobs": len(taken)})
            jobs = await self._start_each(taken)
        for _ in range(len(taken) - len(jobs)):  # buried, or a redelivery of a finished job
            self._free_slot()
        self._active -= claimed - {job.message.id for job in jobs}
        for job in jobs:
            job_id = job.message.id
            task = self._track(self._run(job), f"job-{job_id}")
            task.add_done_callback(lambda _, job_id=job_id: self._active.discard(job_id))  # type: ignore[misc]

    async def _start_each(self, taken: list[Taken]) -> list[Reserved]:
        """Start a batch that failed as a whole message by message: the one that fails goes
        to the dead list with its error (or, if even that fails, stays held and is logged)."""
        jobs: list[Reserved] = []
        for item in taken:
            try:
                jobs += await self._retry_until_written(lambda item=item: self.queue.start(self.id, [item]))  # type: ignore[misc]
            except Exception as exc:
                job_id = item.message.id if item.message is not None else None
                try:
                    await self.queue.bury(self.id, item, f"could not be started: {type(exc).__name__}: {exc}")
                except Exception:
                    log.exception("message could not be started nor buried; it stays held", extra={"job_id": job_id})
        return jobs

    def _track(self, work: Coroutine[object, object, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    def _free_slot(self) -> None:
        # A slot is the model call, not the final write: the next job starts while
        # this one's ending is still on its way to Redis.
        self._calls -= 1
        self._slot_freed.set()

    async def _run(self, job: Reserved) -> None:
        started = time.time()
        job_id = job.message.id
        if log.isEnabledFor(logging.INFO):
            queued_ms = _ms(started - job.message.enqueued_at)
            log.info("job started", extra={"job_id": job_id, "attempt": job.attempt, "queued_ms": queued_ms})
        if job.attempt > self.settings.max_attempts:
            # Its earlier attempts all ended with their worker dead (a crash loop).
            self._free_slot()
            error = f"gave up after {job.attempt - 1} attempts whose worker died (MAX_ATTEMPTS)"
            return await self._fail(job, started, error)
        try:
            try:
                message = job.message
                summary = await self.model.summarize(message.text, message.options, self._emitter(job), self._timed)
            finally:
                self._free_slot()
        except SummarizerError as exc:
            await self._after_error(job, started, str(exc), transient=exc.transient, asked_s=exc.retry_after_s)
        except TimeoutError:
            error = f"timed out after {self.settings.job_timeout_s:g} s (JOB_TIMEOUT)"
            await self._after_error(job, started, error, transient=True)
        except Exception as exc:  # a task boundary: a bug in one job must not stop the worker
            log.exception("job crashed", extra={"job_id": job_id})
            await self._fail(job, started, f"internal error: {type(exc).__name__}: {exc}")
        else:
            now = time.time()
            fields, facts = outcome(summary, self._prices)
            enqueued_at = job.message.enqueued_at
            event = done_event(job_id, summary.text, summary.model, enqueued_at, started, now, facts)
            await self._completions.submit(Completion(job, fields, event))
            metrics = self.metrics
            metrics.done.inc()
            metrics.queue_wait.observe(started - enqueued_at)
            metrics.run_time.observe(now - started)
            metrics.end_to_end.observe(now - enqueued_at)
            if log.isEnabledFor(logging.INFO):  # a line per job: not even its fields when not logged
                extra = {"job_id": job_id, "attempt": job.attempt, "queued_ms": _ms(started - enqueued_at)}
                log.info("job done", extra=extra | {"run_ms": _ms(now - started), "cached": summary.cached})

    def _emitter(self, job: Reserved) -> Emit:
        """Where the job's summary goes piece by piece: its progress stream. Best effort:
        the record is the result, so a piece Redis cannot take is dropped, not retried."""
        job_id, attempt = job.message.id, job.attempt

        async def emit(text: str) -> None:
            try:
                await self._progress.submit(Delta(job_id, attempt, text))
            except UNAVAILABLE as exc:
                log.debug("progress dropped: redis unreachable", extra={"job_id": job_id, "error": repr(exc)})

        return emit

    async def _after_error(
        self, job: Reserved, started: float, error: str, *, transient: bool, asked_s: float | None = None
    ) -> None:
        if not transient or job.attempt >= self.settings.max_attempts:
            suffix = "" if not transient else f" (after {job.attempt} attempts, MAX_ATTEMPTS)"
            return await self._fail(job, started, error + suffix)
        settings = self.settings
        delay_s = backoff_s(job.attempt, settings.retry_base_s, settings.retry_max_s, asked_s)
        await self._write_final(lambda: self.queue.retry(self.id, job, error, delay_s))
        self.metrics.retried.inc()
        extra = {"job_id": job.message.id, "attempt": job.attempt, "delay_s": round(delay_s, 3), "error": error}
        log.warning("job retried", extra=extra)

    async def _fail(self, job: Reserved, started: float, error: str) -> None:
        now = time.time()
        event = failed_event(job.message.id, error, job.message.enqueued_at, started, now)
        await self._write_final(lambda: self.queue.fail(self.id, job, error, event))
        self.metrics.failed.inc()
        extra = {"job_id": job.message.id, "attempt": job.attempt, "run_ms": _ms(now - started), "error": error}
        log.warning("job failed", extra=extra)

    async def _complete_batch(self, batch: list[Completion]) -> list[None]:
        await self._retry_until_written(lambda: self.queue.complete_many(self.id, batch))
        return [None] * len(batch)

    async def _write_final(self, write: Callable[[], Awaitable[object]]) -> None:
        """Write a job's ending, riding out a Redis outage. Shielded: a shutdown that
        cancels the job must not cut its final write in half (the script is atomic,
        but the work would be lost and run again)."""
        task = asyncio.ensure_future(self._retry_until_written(write))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        await asyncio.shield(task)

    async def _retry_until_written(self, write: Callable[[], Awaitable[T]]) -> T:
        outage = Outage("write")
        while True:
            try:
                result = await write()
            except UNAVAILABLE as exc:
                if self._giving_up:  # shut down: recovery runs what this could not write
                    raise
                await outage.hit(exc)
                self._reachable_since = time.monotonic()
                continue
            outage.clear()
            return result


def _model_layer(settings: Settings, queue: JobQueue, summarizer: Summarizer, metrics: Metrics) -> ModelLayer:
    limiter = None
    if summarizer.rate_limited_model:
        model, rpm, tpm = summarizer.rate_limited_model, settings.gemini_rpm, settings.gemini_tpm
        limiter = RateLimiter(queue.redis, queue.keys, model, rpm, tpm)
    cache = None
    if settings.result_cache_ttl_s and summarizer.cache_id:
        # The lock is a lease renewed while the call runs: it lapses with its holder as its
        # heartbeat does, so a recovered job's text is free again by the time it is recovered.
        cache = ResultCache(queue.redis, queue.keys, settings.result_cache_ttl_s, settings.heartbeat_ttl_s)
    return ModelLayer(summarizer, limiter, cache, metrics)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
