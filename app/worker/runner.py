"""The worker runner: reserves jobs, runs up to WORKER_CONCURRENCY at once, records each ending."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import logging
import os
import random
import secrets
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, TypeVar

from app import tasks
from app.config import Settings
from app.connection.errors import RETRY_LATER
from app.metrics import Metrics
from app.model.fallback import ModelChain
from app.model.layer import ModelLayer
from app.model.summarizers.base import Emit, SummarizerError, Summary, no_emit
from app.queue.batching import GroupCommit
from app.queue.contract import PRIORITIES
from app.queue.record import Timing, budget_error
from app.queue.replies import Ended
from app.queue.transitions import BLOCK_S, Completion, Delta, HeldMessage, RunningJob, Transitions, mark_duplicates
from app.worker.cancels import CancelWatch
from app.worker.outage import Link, Outage
from app.worker.upkeep import Upkeep

if TYPE_CHECKING:
    from app.batch.lane import BatchLane
    from app.tracing import JobTracer
    from app.webhooks.delivery import Deliverer

log = logging.getLogger(__name__)

T = TypeVar("T")

# At shutdown, how long to try to put unfinished jobs back before leaving them to recovery.
HAND_BACK_S = 10.0
# At shutdown, how long the reserve and upkeep loops get to end by themselves: a blocking
# read (BLOCK_S) or one command's socket timeout, and some slack.
LOOPS_END_S = 8.0
# A cancelled job still in its model call this long after the abort is aborted again: redis-py
# on Python 3.11 can swallow a cancellation that lands as a command completes (app/tasks.py).
ABORT_AGAIN_S = 0.05


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def after_error(
    settings: Settings, attempt: int, error: str, *, transient: bool, asked_s: float | None = None
) -> tuple[float | None, str]:
    """What a failed attempt leads to: (the delay before the next attempt, the error), or (None,
    the error the job fails with) when the error will not pass or MAX_ATTEMPTS are spent. The
    worker and the batch lane decide alike."""
    if not transient or attempt >= settings.max_attempts:
        return None, error + (f" (after {attempt} attempts, MAX_ATTEMPTS)" if transient else "")
    return backoff_s(attempt, settings.retry_base_s, settings.retry_max_s, asked_s), error


def backoff_s(attempt: int, base_s: float, cap_s: float, asked_s: float | None) -> float:
    """Exponential backoff with full jitter (spreads a herd of retries), capped; a
    delay the model asked for wins when it is longer."""
    jittered = random.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1)))
    return max(jittered, asked_s or 0.0)


class Worker:
    """Runs jobs from one queue through a model layer built for it (service.py). Holds
    only its in-flight tasks; every job's state lives in Redis."""

    def __init__(
        self,
        settings: Settings,
        transitions: Transitions,
        model: ModelLayer | ModelChain,
        worker_id: str | None = None,
        metrics: Metrics | None = None,
        batches: BatchLane | None = None,
        webhooks: Deliverer | None = None,
        tracer: JobTracer | None = None,
    ):
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.transitions = transitions
        self.model = model
        self.id = worker_id or new_worker_id()
        self.batches = batches  # the batch lane, when the model has a Batch API: batch jobs park there
        self.webhooks = webhooks  # delivers job endings to their callback URLs, when webhooks are on
        self.tracer = tracer  # each job's spans, when tracing is on (app/tracing.py)
        self._running: set[asyncio.Task[None]] = set()  # until the job's ending is written
        self._active: set[str] = set()  # ids of the jobs running here: a second message of one is a duplicate
        self._calls = 0  # jobs in their summarizer call: what WORKER_CONCURRENCY bounds
        self._in_call: dict[str, asyncio.Task[None]] = {}  # job id -> its task, while in its model call
        self._cancelled: Counter[str] = Counter()  # jobs running here that their client cancelled: aborts made
        self._slot_freed = asyncio.Event()
        # Reserved and prepared, not yet started: the next jobs of slots as they free (WORKER_PREFETCH).
        self._waiting: collections.deque[HeldMessage] = collections.deque()
        self._dispatch_due = False
        self._stopping = asyncio.Event()
        self.broken: str | None = None  # why the worker stopped by itself (a loop of its own ended)
        self._link = Link()
        # Messages reserved and not yet started or let go: a sweep for strays must not take them.
        self._reserved: Counter[bytes] = Counter()
        self.upkeep = Upkeep(self.id, transitions, settings, self._link, self.metrics, self._holds)
        self.cancels = CancelWatch(transitions.redis, transitions.keys, lambda: self._active, self._cancel)
        self._writes: set[asyncio.Task[object]] = set()  # final writes a cancellation must not cut
        self._completions = GroupCommit[Completion, Ended](self._complete_batch)
        # Pieces of summaries as they are written, from every job at once, share round trips.
        self._progress = GroupCommit[Delta, None](transitions.add_progress_many)
        self.metrics.in_flight.set_function(lambda: self._calls)

    @property
    def healthy(self) -> bool:
        """Its heartbeat is current: the loop runs and Redis takes its writes."""
        return self.upkeep.healthy

    def stop(self) -> None:
        """Stop taking jobs; `run` then drains, hands back what is left, and returns."""
        self._stopping.set()
        self._slot_freed.set()  # a reserve loop waiting for a free slot looks at the flag

    async def run(self) -> None:
        """Take and run jobs until `stop()`; then give running jobs SHUTDOWN_GRACE
        seconds, put the rest back at the front of the queue, and deregister. Returns
        within LOOPS_END_S + SHUTDOWN_GRACE + HAND_BACK_S of `stop()` whatever Redis does
        meanwhile (about BLOCK_S + SHUTDOWN_GRACE + HAND_BACK_S unless Redis hangs)."""
        summarizer = self.model.summarizer
        await self.model.start()
        extra = {"worker_id": self.id, "concurrency": self.settings.worker_concurrency}
        log.info("worker started", extra=extra | {"summarizer": summarizer.name})
        if not await self._register():  # stopped before Redis ever answered: nothing taken, nothing to hand back
            log.info("worker stopped before it registered", extra={"worker_id": self.id})
            return
        redis_loops = [
            asyncio.create_task(self._reserve_loop(), name="reserve"),
            asyncio.create_task(self.upkeep.run(self._stopping), name="upkeep"),
            asyncio.create_task(self.cancels.run(self._stopping), name="cancels"),
        ]
        if self.batches is not None:
            redis_loops.append(asyncio.create_task(self.batches.run(self._stopping), name="batches"))
        if self.webhooks is not None:
            redis_loops.append(asyncio.create_task(self.webhooks.run(self._stopping), name="webhooks"))
        sweeper = asyncio.create_task(self.model.run(), name="deadlines")
        await self._until_stopped_or_broken(redis_loops)
        # The Redis loops end on the flag, not by cancellation: a cancelled command may
        # already be on its way and land after the hand-back (a BLMOVE served after requeue
        # leaves a message on the list of a worker nobody recovers; a beat after deregistration
        # revives it). Only a loop that outlives LOOPS_END_S is cancelled (app/tasks.py).
        await asyncio.wait(redis_loops, timeout=LOOPS_END_S)
        for task in (*redis_loops, sweeper):
            await tasks.stop(task)
        await self._drain()
        log.info("worker stopped", extra={"worker_id": self.id})

    async def _until_stopped_or_broken(self, loops: list[asyncio.Task[None]]) -> None:
        """Until `stop()`, or until one of the worker's loops ends by itself: a bug in it, since
        each rides out outages. A worker without its heartbeat or its reservations would hold
        jobs as a zombie (a live worker whose jobs others recover and run again); it stops
        instead, hands its jobs back, and leaves with `broken` set (service.py exits non-zero)."""
        stopping = asyncio.create_task(self._stopping.wait(), name="stopping")
        await asyncio.wait([stopping, *loops], return_when=asyncio.FIRST_COMPLETED)
        ended = [task for task in loops if task.done()]
        if ended and not self._stopping.is_set():
            error = ended[0].exception() if not ended[0].cancelled() else None
            self.broken = f"{ended[0].get_name()} loop ended: {error!r}"
            log.error("worker loop ended; stopping the worker", exc_info=error, extra={"worker_id": self.id})
            self.stop()
        await stopping

    async def _register(self) -> bool:
        """The first heartbeat, retried through an outage; False if `stop()` came first."""
        registering = asyncio.create_task(self._link.until_written(self.upkeep.beat), name="register")
        stopped = asyncio.create_task(self._stopping.wait(), name="stop")
        await asyncio.wait([registering, stopped], return_when=asyncio.FIRST_COMPLETED)
        if registering.done():
            return True
        self._link.giving_up = True
        await tasks.stop(registering)
        return False

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
        hand_back = functools.partial(self.transitions.requeue, self.id, orphan=False)
        handing_back = asyncio.create_task(self._link.until_written(hand_back))
        await asyncio.wait([handing_back], timeout=HAND_BACK_S / 2)
        self._link.giving_up = True  # whatever still retries a write stops at its next failure
        for left in (*unwritten, handing_back):
            left.cancel()
        await self.model.aclose()
        if not handing_back.done() or handing_back.cancelled() or handing_back.exception() is not None:
            # Redis is away: the jobs stay in our processing list, and the first worker
            # to see our heartbeat lapse puts them back.
            log.error("could not hand back unfinished jobs; recovery will", extra={"worker_id": self.id})
            return
        moved = handing_back.result()
        if unfinished or moved:
            log.info("handed back unfinished jobs", extra={"worker_id": self.id, "jobs": moved})

    async def _reserve_loop(self) -> None:
        """Keep every slot busy and WORKER_PREFETCH messages reserved beyond them: a freed slot
        starts a prefetched job at once (one round trip: its start), while the reservation that
        replaces it runs beside. Prefetched messages sit in this worker's processing list
        unstarted (their attempts not counted): a crash or a stop hands them back like the rest."""
        outage = Outage("reserve")
        prefetch = self.settings.prefetch
        most = self.settings.worker_concurrency + prefetch
        while not self._stopping.is_set():  # as well as cancelled: redis-py can swallow a cancellation
            room = most - self._calls - len(self._waiting)
            # With jobs in hand, wait until a few can be reserved at once: one round trip for several.
            if room <= 0 or (self._waiting and room < max(1, prefetch // 2)):
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            self._slot_freed.clear()  # before the round trip: a slot freed during it is seen after it
            try:
                raws = await self.transitions.reserve(self.id, room, 0 if self._waiting else BLOCK_S)
            except RETRY_LATER as exc:
                await outage.hit(exc)
                continue
            outage.clear()
            if raws and not self._stopping.is_set():  # taken as the worker stops: handed back unstarted
                self._reserved.update(raws)
                self._hold(self.transitions.prepare(raws))
                self._dispatch()
            elif not raws and self._waiting:  # nothing more waits in Redis: until a slot frees
                await self._slot_freed.wait()

    def _hold(self, batch: list[HeldMessage]) -> None:
        """Keep reserved messages for the next free slots, the most urgent first: a high job reserved
        behind prefetched normal ones starts before them (poison first of all: it only gets buried)."""
        urgent = self._waiting and min(map(_urgency, batch)) < _urgency(self._waiting[-1])
        self._waiting.extend(batch)
        if urgent:
            self._waiting = collections.deque(sorted(self._waiting, key=_urgency))  # stable: FIFO within a lane

    def _dispatch(self) -> None:
        """Start as many reserved messages as there are free slots, in one batch (one round trip)."""
        self._dispatch_due = False
        free = self.settings.worker_concurrency - self._calls
        if free <= 0 or not self._waiting or self._stopping.is_set():
            return
        batch = [self._waiting.popleft() for _ in range(min(free, len(self._waiting)))]
        self._calls += len(batch)  # the slots are theirs from now, started or not
        self._track(self._start_batch(batch), "start")

    def _holds(self, raw: bytes) -> bool:
        """Whether a message on this worker's list is one of its own: reserved and not yet started,
        or a job it is starting or running (by id: start.lua may have put a completed form there)."""
        return raw in self._reserved or self.transitions.job_id_of(raw) in self._active

    async def _start_batch(self, batch: list[HeldMessage]) -> None:
        try:
            await self._start_reserved(batch)
        finally:
            self._reserved.subtract(item.raw for item in batch)
            self._reserved = +self._reserved  # drop what went to zero

    async def _start_reserved(self, batch: list[HeldMessage]) -> None:
        if self.batches is not None and any(map(self.batches.wants, batch)):
            batch = await self._park(batch, self.batches)
        # Claimed before the first await: batches start concurrently, and a second message of
        # a job this worker is starting or running is a duplicate, never a retried start.
        batch = mark_duplicates(batch, self._active)
        claimed = {item.message.id for item in batch if item.message is not None}
        self._active |= claimed
        # Retried through an outage with the same prepared batch: start is idempotent for it.
        try:
            jobs = await self._link.until_written(lambda: self.transitions.start(self.id, batch))
        except Exception:  # not an outage: a message no script expected; it must not hold the rest
            log.exception("batch could not start; starting its messages one by one", extra={"jobs": len(batch)})
            jobs = await self.transitions.start_each(self.id, batch, self._link.until_written)
        for _ in range(len(batch) - len(jobs)):  # buried, or a redelivery of a finished job
            self._free_slot()
        not_run = claimed - {job.message.id for job in jobs}
        self._active -= not_run
        for job_id in not_run:
            self._cancelled.pop(job_id, None)
        for job in jobs:
            job_id = job.message.id
            run = self._run(job, time.time()) if self.tracer is None else self._run_traced(job)
            task = self._track(run, f"job-{job_id}")
            task.add_done_callback(lambda _, job_id=job_id: self._forget(job_id))  # type: ignore[misc]

    async def _park(self, batch: list[HeldMessage], lane: BatchLane) -> list[HeldMessage]:
        """Batch jobs leave for the batch lane (no model call here; their slots are free at once).
        Returns the rest to start. Should parking fail as no outage does, they run here instead."""
        parked = [item for item in batch if lane.wants(item)]
        try:
            await self._link.until_written(lambda: lane.park(parked))
        except Exception:
            log.exception("batch jobs could not be parked; running them here", extra={"jobs": len(parked)})
            return batch
        for item in parked:
            self._free_slot()
            log.info("job parked for a batch", extra={"job_id": item.message.id if item.message else None})
        return [item for item in batch if not lane.wants(item)]

    def _forget(self, job_id: str) -> None:
        self._active.discard(job_id)
        self._cancelled.pop(job_id, None)

    def _cancel(self, job_id: str) -> None:
        """The client cancelled `job_id` (its record says so): abort its model call if it is in
        one; a job not yet in it never makes it (`_run` looks first)."""
        if job_id not in self._active or job_id in self._cancelled:
            return
        self._cancelled[job_id] = 0
        log.info("job cancelled while running", extra={"job_id": job_id, "in_model_call": job_id in self._in_call})
        self._abort(job_id)

    def _abort(self, job_id: str) -> None:
        """Cancel the job's task while it is in its model call, again until it has left it."""
        task = self._in_call.get(job_id)
        if task is not None:
            task.cancel()
            self._cancelled[job_id] += 1
            asyncio.get_running_loop().call_later(ABORT_AGAIN_S, self._abort, job_id)

    def _track(self, work: Coroutine[object, object, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    def _free_slot(self) -> None:
        # A slot is the model call, not the final write: the next job starts while
        # this one's ending is still on its way to Redis. Slots freed in one turn of the
        # loop start their next jobs together.
        self._calls -= 1
        self._slot_freed.set()
        if self._waiting and not self._dispatch_due:
            self._dispatch_due = True
            # In a context of its own: the next jobs are not the freeing job's children (its trace).
            asyncio.get_running_loop().call_soon(self._dispatch, context=contextvars.Context())

    async def _run_traced(self, job: RunningJob) -> None:
        """_run inside the job's span (tracing on; off, the job pays no layer for it)."""
        assert self.tracer is not None
        started = time.time()
        with self.tracer.job(job.message, job.attempt, started):
            await self._run(job, started)

    async def _run(self, job: RunningJob, started: float) -> None:
        if log.isEnabledFor(logging.INFO):
            queued_ms = _ms(started - job.message.enqueued_at)
            log.info("job started", extra={"job_id": job.message.id, "attempt": job.attempt, "queued_ms": queued_ms})
        job_id = job.message.id
        if (refusal := self._refusal(job)) is not None:  # no model call: it ends here
            self._free_slot()
            return await (self._release_cancelled(job) if refusal is _CANCELLED else self._fail(job, started, refusal))
        try:
            try:
                self._in_call[job_id] = asyncio.current_task()  # type: ignore[assignment]
                message = job.message
                if self.tracer is None:
                    summary = await self.model.summarize(message.text, message.options, self._emitter(job))
                else:
                    summary = await self._traced_call(job)
            finally:
                del self._in_call[job_id]
                self._free_slot()
        except asyncio.CancelledError:
            if not self._aborted_only(job_id):  # the worker is stopping (too): the hand-back deals with it
                raise
            await self._release_cancelled(job)
        except SummarizerError as exc:
            await self._after_error(job, started, str(exc), transient=exc.transient, asked_s=exc.retry_after_s)
        except TimeoutError:
            error = f"timed out after {self.settings.job_timeout_s:g} s (JOB_TIMEOUT)"
            await self._after_error(job, started, error, transient=True)
        except Exception as exc:  # a task boundary: a bug in one job must not stop the worker
            log.exception("job crashed", extra={"job_id": job.message.id})
            await self._fail(job, started, f"internal error: {type(exc).__name__}: {exc}")
        else:
            await self._done(job, started, summary)

    async def _traced_call(self, job: RunningJob) -> Summary:
        message = job.message
        assert self.tracer is not None
        with self.tracer.model_call(message.options.max_output_tokens) as call:
            summary = await self.model.summarize(message.text, message.options, self._emitter(job))
            call.answered(summary)
            return summary

    def _complete_span(self) -> contextlib.AbstractContextManager[object]:
        return _NO_SPAN if self.tracer is None else self.tracer.complete()

    def _refusal(self, job: RunningJob) -> str | None:
        """Why the job must make no model call (the error it fails with, or _CANCELLED), else None."""
        if job.message.id in self._cancelled:  # cancelled between its start and now: that is its ending
            return _CANCELLED
        if job.attempt > self.settings.max_attempts:  # its earlier attempts all ended with their worker dead
            return f"gave up after {job.attempt - 1} attempts whose worker died (MAX_ATTEMPTS)"
        if job.budget_spent:
            return budget_error(job.message.tenant)
        return None

    def _aborted_only(self, job_id: str) -> bool:
        """The job's task was cancelled by this worker's aborts alone (its client's cancel), not by a
        stop: those cancellations are taken back, and the job goes on to let its message go."""
        task = asyncio.current_task()
        if job_id not in self._cancelled or task is None:
            return False
        for _ in range(self._cancelled[job_id]):
            task.uncancel()
        return task.cancelling() == 0

    async def _release_cancelled(self, job: RunningJob) -> None:
        """Let go of a cancelled job's message. Through retry.lua: a final record (cancelled) is
        only released; were it not final after all, the job would run again, never be lost."""
        error = "cancel requested, but the record is not cancelled: run again"
        await self._write_final(lambda: self.transitions.retry(self.id, job, error, 0.0))

    async def _done(self, job: RunningJob, started: float, summary: Summary) -> None:
        now, enqueued_at = time.time(), job.message.enqueued_at
        timing = Timing(enqueued_at, started, now)
        with self._complete_span():
            ended = await self._completions.submit(Completion(job, self.model.outcome(summary), timing))
        if ended is not Ended.ENDED:
            return _not_written(job, ended, "done")
        metrics = self.metrics
        metrics.done.inc()
        metrics.queue_wait.observe(started - enqueued_at)
        metrics.run_time.observe(now - started)
        metrics.end_to_end.observe(now - enqueued_at)
        if log.isEnabledFor(logging.INFO):  # a line per job: not even its fields when not logged
            extra = {"job_id": job.message.id, "attempt": job.attempt, "queued_ms": _ms(started - enqueued_at)}
            log.info("job done", extra=extra | {"run_ms": _ms(now - started), "cached": summary.cached})

    def _emitter(self, job: RunningJob) -> Emit:
        """Where the job's summary goes piece by piece: its progress stream, when someone follows
        it (else nowhere: a model call with no listener need not stream). Best effort: the record
        is the result, so a piece Redis cannot take is dropped, not retried."""
        if not job.stream:
            return no_emit
        job_id, attempt = job.message.id, job.attempt

        async def emit(text: str) -> None:
            try:
                await self._progress.submit(Delta(job_id, attempt, text))
            except RETRY_LATER as exc:
                log.debug("progress dropped: redis unreachable", extra={"job_id": job_id, "error": repr(exc)})

        return emit

    async def _after_error(
        self, job: RunningJob, started: float, error: str, *, transient: bool, asked_s: float | None = None
    ) -> None:
        delay_s, error = after_error(self.settings, job.attempt, error, transient=transient, asked_s=asked_s)
        if delay_s is None:
            return await self._fail(job, started, error)
        if not await self._write_final(lambda: self.transitions.retry(self.id, job, error, delay_s)):
            return _not_written(job, None, "retried")
        self.metrics.retried.inc()
        extra = {"job_id": job.message.id, "attempt": job.attempt, "delay_s": round(delay_s, 3), "error": error}
        log.warning("job retried", extra=extra)

    async def _fail(self, job: RunningJob, started: float, error: str) -> None:
        now = time.time()
        timing = Timing(job.message.enqueued_at, started, now)
        with self._complete_span():
            written = await self._write_final(lambda: self.transitions.fail(self.id, job, error, timing))
        if not written:
            return _not_written(job, None, "failed")
        self.metrics.failed.inc()
        extra = {"job_id": job.message.id, "attempt": job.attempt, "run_ms": _ms(now - started), "error": error}
        log.warning("job failed", extra=extra)

    async def _complete_batch(self, batch: list[Completion]) -> list[Ended]:
        return await self._link.until_written(lambda: self.transitions.complete_many(self.id, batch))

    async def _write_final(self, write: Callable[[], Awaitable[T]]) -> T:
        """Write a job's ending, riding out a Redis outage. Shielded: a shutdown that
        cancels the job must not cut its final write in half (the script is atomic,
        but the work would be lost and run again)."""
        task = asyncio.ensure_future(self._link.until_written(write))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return await asyncio.shield(task)


_URGENCY = {priority: rank for rank, priority in enumerate(PRIORITIES, start=1)}


def _urgency(item: HeldMessage) -> int:
    return 0 if item.message is None else _URGENCY[item.message.priority]


_CANCELLED = "cancelled"  # a _refusal: the job's client cancelled it
_NO_SPAN = contextlib.nullcontext()  # tracing off: the phases of a job are no spans


def _not_written(job: RunningJob, ended: Ended | None, ending: str) -> None:
    """A job's ending that changed nothing: it had ended already (a cancel that raced the call), or
    it was taken from this worker (recovered while its heartbeat lapsed, and run elsewhere)."""
    why = "taken from this worker" if ended is Ended.TAKEN else "already ended, or taken from this worker"
    log.info("job ending not written", extra={"job_id": job.message.id, "ending": ending, "because": why})


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
