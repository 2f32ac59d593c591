"""The batch lane: batch-mode jobs collected per model and options into Gemini batch jobs (half
the price, answered within 24 h), polled by any worker, and ended through the usual scripts.

A job's way: a worker reserves its message and parks it in its group's waiting list (no model
call, no slot held). One worker at a time (the collector's lease) claims a group's oldest jobs
into a batch once `BATCH_MAX_JOBS` wait or the oldest has waited `BATCH_MAX_WAIT`; the batch is
recorded in Redis before the API hears of it, under an id of ours that is also the remote
batch's display name. Its jobs then start on the pseudo-worker `batch:<id>` (start.lua: a
cancelled job is released there, an expired one ends `expired`, a spent budget is seen), the
result cache answers what it can, and the rest go to the API in one request. Every worker
polls due batches (batch_due.lua hands each to one poller at a time), backing off from
`BATCH_POLL_MIN` to `BATCH_POLL_MAX`. A collector or poller that dies leaves a batch that is
due again: the next poller finds a remote batch by its display name or creates it, and every
ending is idempotent, so each job ends once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from app.batch.settle import Settler
from app.config import Settings
from app.connection.errors import RETRY_LATER
from app.model.batches import PENDING, SUCCEEDED, BatchRequest, GeminiBatches
from app.model.layer import ModelLayer
from app.model.summarizers.base import SummarizerError
from app.queue.batches import BatchStore, DueBatch, batch_worker
from app.queue.contract import Mode
from app.queue.transitions import HeldMessage, RunningJob, Transitions
from app.worker.outage import Outage

log = logging.getLogger(__name__)

T = TypeVar("T")

# Gemini takes inline requests up to 20 MB per batch. The SDK sends JSON with every non-ASCII
# character escaped (a 4-byte emoji becomes 12 bytes), and each request carries its config: a
# third of the limit in message bytes stays under it whatever the texts.
INLINE_BYTES = 6_000_000
# A batch answers within 24 h; one with no answer an hour after that is given up (BATCH_ON_EXPIRE).
GIVE_UP_AFTER_S = 25 * 3600
# Most batches one worker polls per tick: others' turns come on their own ticks.
POLLS_PER_TICK = 10


class BatchLane:
    def __init__(
        self,
        worker_id: str,
        settings: Settings,
        store: BatchStore,
        transitions: Transitions,
        api: GeminiBatches,
        model: ModelLayer,
    ) -> None:
        self.worker_id = worker_id
        self._settings = settings
        self._store = store
        self._transitions = transitions
        self._api = api
        self._model = model
        self._settle = Settler(settings, transitions, model)
        self._tick_s = min(1.0, settings.batch_poll_min_s)
        # How long a collector or a poller holds a batch before another may take it: longer than
        # one API call may take (JOB_TIMEOUT bounds it) and the jobs' endings, so a slow collector
        # and a poller never both create a batch, nor two pollers poll one.
        self._lease_s = 2 * settings.job_timeout_s + 1

    @staticmethod
    def wants(item: HeldMessage) -> bool:
        return item.message is not None and item.message.mode is Mode.BATCH

    async def park(self, items: list[HeldMessage]) -> int:
        return await self._store.park(self.worker_id, items, self._api.model)

    async def run(self, stopping: asyncio.Event) -> None:
        """Collect (while this worker holds the lease) and poll, every tick, until `stopping`."""
        outage = Outage("batch lane")
        while not stopping.is_set():
            try:
                if await self._store.lease(self.worker_id, self._settings.heartbeat_ttl_s):
                    await self._collect()
                for _ in range(POLLS_PER_TICK):
                    due = await self._store.due(self._lease_s)
                    if due is None:
                        break
                    await self._alone(self._poll(due), due.id)
            except RETRY_LATER as exc:
                await outage.hit(exc)
                continue
            except Exception:  # a bug or garbage under our keys: logged, and the lane goes on next tick
                log.exception("batch lane tick failed")
            else:
                outage.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._tick_s)

    async def _collect(self) -> None:
        settings = self._settings
        for group in await self._store.groups_due(settings.batch_max_jobs, settings.batch_max_wait_s):
            batch_id = secrets.token_hex(8)
            model = self._api.model
            if await self._store.claim(group, batch_id, model, settings.batch_max_jobs, INLINE_BYTES, self._lease_s):
                await self._alone(self._create(batch_id), batch_id)

    @staticmethod
    async def _alone(step: Awaitable[None], batch_id: str) -> None:
        """One batch's creation or poll: a bug or a garbled batch record fails that step alone (the
        batch is due again when its lease ends), never the lane nor the worker."""
        try:
            await step
        except RETRY_LATER:
            raise
        except Exception:
            log.exception("batch step failed; the batch is due again later", extra={"batch_id": batch_id})

    async def _poll(self, due: DueBatch) -> None:
        if time.time() - due.number("created_at", time.time()) > GIVE_UP_AFTER_S:
            return await self._lost(due, f"no answer {GIVE_UP_AFTER_S / 3600:g} h after it was made")
        if due.state != "submitted":  # its collector died, or its create failed: find it, or make it
            try:
                name = await self._api.find(due.id)
            except SummarizerError as exc:
                log.warning("batch lookup failed", extra={"batch_id": due.id, "error": str(exc)})
                return  # due again when its poll lease ends
            if name is None:
                return await self._create(due.id)
            await self._store.update(due.id, self._settings.batch_poll_min_s, state="submitted", name=name)
            due = replace(due, fields=due.fields | {"state": "submitted", "name": name})
        jobs = await self._running(due.id)
        if not jobs:  # every job of it was cancelled (or ended otherwise): the batch is not needed
            with contextlib.suppress(SummarizerError):
                await self._api.cancel(due.name)
            log.info("batch cancelled: none of its jobs is waiting for it", extra={"batch": due.name})
            await self._store.drop(due.id)
            return
        try:
            result = await self._api.get(due.name)
        except SummarizerError as exc:
            if not exc.transient:  # the API does not know it (any more): its jobs go on without it
                return await self._lost(due, str(exc))
            log.warning("batch poll failed", extra={"batch": due.name, "error": str(exc)})
            return  # due again when its poll lease ends
        if result.state == PENDING:
            wait_s = min(due.number("poll_s", self._settings.batch_poll_min_s) * 2, self._settings.batch_poll_max_s)
            await self._store.update(due.id, wait_s, poll_s=wait_s)
            return
        if result.state == SUCCEEDED:
            await self._settle.answers(batch_worker(due.id), due, jobs, result.answers)
        else:
            await self._settle.ended(batch_worker(due.id), due.name, jobs, result.state)
        await self._store.drop(due.id)

    async def _lost(self, due: DueBatch, why: str) -> None:
        """A batch that will not answer: its jobs go where BATCH_ON_EXPIRE says, as for an expired one."""
        jobs = await self._running(due.id)
        await self._settle.ended(batch_worker(due.id), due.name or due.id, jobs, f"lost ({why})")
        await self._store.drop(due.id)

    async def _running(self, batch_id: str) -> list[RunningJob]:
        """The batch's jobs still to end, started on its pseudo-worker. start.lua again on the same
        messages is idempotent; it releases each job that became final meanwhile (a cancel). A start
        that fails as a whole (a message no check foresaw) is made message by message, and the one
        that fails goes to the dead list: one bad message never holds a batch."""
        worker = batch_worker(batch_id)
        held = self._transitions.prepare(await self._transitions.held(worker))
        try:
            return await self._transitions.start(worker, held)
        except RETRY_LATER:
            raise
        except Exception:
            log.exception("batch's jobs could not start together; one by one", extra={"batch_id": batch_id})
        return await self._transitions.start_each(worker, held, _once)

    async def _create(self, batch_id: str) -> None:
        """Start the claimed jobs, answer what the cache or a spent budget decides, and send the
        rest to the API as one batch; a batch left with no job is dropped."""
        worker = batch_worker(batch_id)
        jobs = await self._settle.without_call(worker, await self._running(batch_id))
        if not jobs:
            await self._store.drop(batch_id)
            return
        requests = [BatchRequest(job.message.id, job.message.text, job.message.options) for job in jobs]
        # No other poller takes the batch while this create runs (it would look, miss, and make another).
        await self._store.update(batch_id, self._lease_s)
        try:
            name = await self._api.create(requests, display_name=batch_id)
        except SummarizerError as exc:
            if exc.transient:  # the batch stays `creating`: due again later, it is tried again
                log.warning("batch not created; trying again later", extra={"batch_id": batch_id, "error": str(exc)})
                return
            await self._settle.ended(worker, batch_id, jobs, f"refused ({exc})")
            await self._store.drop(batch_id)
            return
        poll_s = self._settings.batch_poll_min_s
        await self._store.update(
            batch_id, poll_s, state="submitted", name=name, poll_s=poll_s, submitted_at=time.time()
        )
        log.info("batch created", extra={"batch": name, "batch_id": batch_id, "jobs": len(jobs)})


async def _once(write: Callable[[], Awaitable[T]]) -> T:
    """A write made once: the lane rides out an outage by its tick (the batch is due again)."""
    return await write()
