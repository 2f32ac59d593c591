"""How the jobs of a batch end: through the worker's own scripts, on the batch's pseudo-worker."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace

from app.config import Settings
from app.model.layer import ModelLayer
from app.model.summarizers.base import SummarizerError, Summary
from app.queue.batches import DueBatch
from app.queue.contract import Mode
from app.queue.producer import ONE_DAY_S
from app.queue.record import Timing, budget_error
from app.queue.transitions import Completion, RunningJob, Transitions
from app.worker.runner import after_error

log = logging.getLogger(__name__)


class Settler:
    def __init__(self, settings: Settings, transitions: Transitions, model: ModelLayer) -> None:
        self._settings = settings
        self._transitions = transitions
        self._model = model

    async def without_call(self, worker: str, jobs: list[RunningJob]) -> list[RunningJob]:
        """End what needs no model: a spent budget fails its job, the result cache answers what
        it holds (before the job joins a batch). Returns the jobs left for the batch."""
        now, within_budget = time.time(), []
        for job in jobs:
            if job.budget_spent and job.message.budget_wait and not job.message.expired(_next_day(now)):
                await self._until_tomorrow(worker, job)
            elif job.budget_spent:
                error = budget_error(job.message.tenant)
                await self._transitions.fail(worker, job, error, Timing(job.message.enqueued_at, now, now))
            else:
                within_budget.append(job)
        hits = await self._model.cached_many([(job.message.text, job.message.options) for job in within_budget])
        left, completions = [], []
        for job, hit in zip(within_budget, hits, strict=True):
            if hit is None:
                left.append(job)
            else:
                timing = Timing(job.message.enqueued_at, now, now)
                completions.append(Completion(job, self._model.outcome(hit), timing))
        if completions:
            await self._transitions.complete_many(worker, completions)
        return left

    async def _until_tomorrow(self, worker: str, job: RunningJob) -> None:
        """A batch job over its tenant's budget that asked to wait: back in the queue at the next
        UTC day (spread over its first minute), when the budget is whole again."""
        delay_s = _next_day(time.time()) - time.time() + random.uniform(0, 60)
        await self._transitions.retry(worker, job, budget_error(job.message.tenant, waits=True), delay_s)

    async def answers(
        self, worker: str, batch: DueBatch, jobs: list[RunningJob], answers: dict[str, Summary | SummarizerError]
    ) -> None:
        """A batch that succeeded: each job ends with its own answer. An answer is stored in the
        result cache as an interactive one would be; a job the batch did not answer runs again."""
        now, started = time.time(), batch.number("submitted_at", batch.number("created_at"))
        completions, made = [], []
        for job in jobs:
            answer = answers.get(job.message.id)
            if isinstance(answer, Summary):
                made.append((job.message.text, job.message.options, answer))
                outcome = replace(self._model.outcome(answer, batch=True), batch=batch.name)
                completions.append(Completion(job, outcome, Timing(job.message.enqueued_at, started, now)))
            else:
                error = answer or SummarizerError(f"batch {batch.name} did not answer this job", transient=True)
                await self._after_error(worker, job, started, error)
        await self._model.remember_many(made)
        if completions:
            await self._transitions.complete_many(worker, completions)
        log.info("batch done", extra={"batch": batch.name, "jobs": len(jobs), "done": len(completions)})

    async def ended(self, worker: str, name: str, jobs: list[RunningJob], state: str) -> None:
        """A batch that failed, expired, was cancelled, refused or lost: its jobs run interactively,
        or fail (BATCH_ON_EXPIRE)."""
        error = f"batch {name} ended {state}"
        if self._settings.batch_on_expire == "fail":
            now = time.time()
            for job in jobs:
                timing = Timing(job.message.enqueued_at, now, now)
                await self._transitions.fail(worker, job, f"{error} (BATCH_ON_EXPIRE=fail)", timing)
            return
        for job in jobs:
            interactive = replace(job.message, mode=Mode.INTERACTIVE).encode()
            await self._transitions.retry(worker, job, f"{error}: runs interactively", 0.0, requeue_as=interactive)
        log.warning("batch ended without answers", extra={"batch": name, "state": state, "jobs": len(jobs)})

    async def _after_error(self, worker: str, job: RunningJob, started: float, error: SummarizerError) -> None:
        """A request of the batch that failed: retried (in a later batch) while it may pass and
        attempts remain, else failed; its job alone."""
        delay_s, text = after_error(
            self._settings, job.attempt, str(error), transient=error.transient, asked_s=error.retry_after_s
        )
        if delay_s is not None:
            await self._transitions.retry(worker, job, text, delay_s)
        else:
            await self._transitions.fail(worker, job, text, Timing(job.message.enqueued_at, started, time.time()))


def _next_day(now: float) -> float:
    """When the next UTC day begins: a tenant's daily budget is whole again."""
    return now - now % ONE_DAY_S + ONE_DAY_S
