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
from app.queue.record import Timing
from app.queue.transitions import Completion, RunningJob, Transitions
from app.worker.runner import backoff_s

log = logging.getLogger(__name__)


class Settler:
    def __init__(self, settings: Settings, transitions: Transitions, model: ModelLayer) -> None:
        self._settings = settings
        self._transitions = transitions
        self._model = model

    async def without_call(self, worker: str, jobs: list[RunningJob]) -> list[RunningJob]:
        """End what needs no model: a spent budget fails its job, the result cache answers what
        it holds (before the job joins a batch). Returns the jobs left for the batch."""
        left, completions = [], []
        now = time.time()
        for job in jobs:
            if job.budget_spent and job.message.budget_wait and not job.message.expired(_next_day(now)):
                await self._until_tomorrow(worker, job)
                continue
            if job.budget_spent:
                tenant = job.message.tenant
                error = f"budget-exhausted: tenant {tenant!r} spent its daily budget; no model call was made"
                await self._transitions.fail(worker, job, error, Timing(job.message.enqueued_at, now, now))
                continue
            hit = await self._model.cached(job.message.text, job.message.options)
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
        error = f"budget-exhausted: tenant {job.message.tenant!r} spent its daily budget; waits for the next day"
        await self._transitions.retry(worker, job, error, delay_s)

    async def answers(
        self, worker: str, batch: DueBatch, jobs: list[RunningJob], answers: dict[str, Summary | SummarizerError]
    ) -> None:
        """A batch that succeeded: each job ends with its own answer. An answer is stored in the
        result cache as an interactive one would be; a job the batch did not answer runs again."""
        now, started = time.time(), batch.number("submitted_at", batch.number("created_at"))
        completions = []
        for job in jobs:
            answer = answers.get(job.message.id)
            if isinstance(answer, Summary):
                await self._model.remember(job.message.text, job.message.options, answer)
                outcome = replace(self._model.outcome(answer, batch=True), mode=Mode.BATCH.value, batch=batch.name)
                completions.append(Completion(job, outcome, Timing(job.message.enqueued_at, started, now)))
            else:
                error = answer or SummarizerError(f"batch {batch.name} did not answer this job", transient=True)
                await self._after_error(worker, job, started, error)
        if completions:
            await self._transitions.complete_many(worker, completions)
        log.info("batch done", extra={"batch": batch.name, "jobs": len(jobs), "done": len(completions)})

    async def ended(self, worker: str, name: str, jobs: list[RunningJob], state: str) -> None:
        """A batch that failed, expired, was cancelled, refused or lost: its jobs run interactively,
        or fail (BATCH_ON_EXPIRE)."""
        error = f"batch {name} ended {state}"
        if self._settings.batch_on_expire == "fail":
            return await self.refused(worker, jobs, f"{error} (BATCH_ON_EXPIRE=fail)")
        for job in jobs:
            interactive = replace(job.message, mode=Mode.INTERACTIVE).encode()
            await self._transitions.retry(worker, job, f"{error}: runs interactively", 0.0, requeue_as=interactive)
        log.warning("batch ended without answers", extra={"batch": name, "state": state, "jobs": len(jobs)})

    async def refused(self, worker: str, jobs: list[RunningJob], error: str) -> None:
        now = time.time()
        for job in jobs:
            await self._transitions.fail(worker, job, error, Timing(job.message.enqueued_at, now, now))

    async def _after_error(self, worker: str, job: RunningJob, started: float, error: SummarizerError) -> None:
        """A request of the batch that failed: retried (in a later batch) while it may pass and
        attempts remain, else failed; its job alone."""
        settings = self._settings
        if error.transient and job.attempt < settings.max_attempts:
            delay_s = backoff_s(job.attempt, settings.retry_base_s, settings.retry_max_s, error.retry_after_s)
            await self._transitions.retry(worker, job, str(error), delay_s)
            return
        suffix = f" (after {job.attempt} attempts, MAX_ATTEMPTS)" if error.transient else ""
        timing = Timing(job.message.enqueued_at, started, time.time())
        await self._transitions.fail(worker, job, str(error) + suffix, timing)


def _next_day(now: float) -> float:
    """When the next UTC day begins: a tenant's daily budget is whole again."""
    return now - now % ONE_DAY_S + ONE_DAY_S
