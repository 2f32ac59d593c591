"""Gemini's Batch API through google-genai: the same generateContent requests, answered within
24 h at half the price. Holds no Redis and no job state (app/batch/lane.py does)."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import aiohttp
from google.genai import errors, types

from app.model.summarizers.base import SummarizerError, Summary

if TYPE_CHECKING:
    from app.model.summarizers.gemini import GeminiSummarizer
    from app.options import Options

T = TypeVar("T")

# Where a batch is: still to answer, or ended one way or another.
PENDING, SUCCEEDED, FAILED, EXPIRED, CANCELLED = "pending", "succeeded", "failed", "expired", "cancelled"
_STATES = {
    types.JobState.JOB_STATE_SUCCEEDED: SUCCEEDED,
    types.JobState.JOB_STATE_FAILED: FAILED,
    types.JobState.JOB_STATE_EXPIRED: EXPIRED,
    types.JobState.JOB_STATE_CANCELLED: CANCELLED,
}
# google.rpc codes of a request's error that may pass (DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
# INTERNAL, UNAVAILABLE), and the HTTP statuses of the same.
_TRANSIENT_CODES = frozenset({4, 8, 13, 14, 408, 429, 500, 502, 503, 504})
# How many of our batches a lookup by display name reads (newest first) before giving up.
FIND_AMONG = 200


@dataclass(frozen=True, slots=True)
class BatchRequest:
    job_id: str
    text: str
    options: Options


@dataclass(frozen=True, slots=True)
class BatchResult:
    """A batch's state and, once it succeeded, each job's answer (by job id)."""

    state: str
    answers: dict[str, Summary | SummarizerError] = field(default_factory=dict)


class GeminiBatches:
    """Create, read, find and cancel batches of one model, with the summarizer's client, prompt and
    answer checks: a batch answer becomes the same Summary (or error) an interactive call would."""

    def __init__(self, summarizer: GeminiSummarizer) -> None:
        self._summarizer = summarizer
        self.model = summarizer.model

    async def create(self, requests: list[BatchRequest], display_name: str) -> str:
        """A batch of inline requests, each tagged with its job id; returns the batch's name."""
        inline = [
            types.InlinedRequest(
                contents=each.text, config=self._summarizer.request_config(each.options), metadata={"job": each.job_id}
            )
            for each in requests
        ]
        batch = await self._call(
            self._summarizer.client().aio.batches.create(
                model=self.model, src=inline, config=types.CreateBatchJobConfig(display_name=display_name)
            )
        )
        if not batch.name:
            raise SummarizerError("gemini created a batch without a name", transient=True)
        return batch.name

    async def get(self, name: str) -> BatchResult:
        batch = await self._call(self._summarizer.client().aio.batches.get(name=name))
        state = _STATES.get(batch.state, PENDING) if batch.state is not None else PENDING
        if state != SUCCEEDED:
            return BatchResult(state)
        answers: dict[str, Summary | SummarizerError] = {}
        inlined = batch.dest.inlined_responses if batch.dest is not None else None
        for answer in inlined or ():
            job_id = (answer.metadata or {}).get("job")
            if job_id:
                answers[job_id] = self._answer(answer)
        return BatchResult(state, answers)

    async def find(self, display_name: str) -> str | None:
        """The name of the batch created with `display_name`, if the API has one (a collector that
        died between asking for a batch and recording its name may have made it)."""
        return await self._call(self._find(display_name))

    async def _find(self, display_name: str) -> str | None:
        pager = await self._summarizer.client().aio.batches.list(config={"page_size": 100})
        seen = 0
        async for batch in pager:
            if batch.display_name == display_name and batch.name:
                return batch.name
            seen += 1
            if seen >= FIND_AMONG:
                break
        return None

    async def cancel(self, name: str) -> None:
        await self._call(self._summarizer.client().aio.batches.cancel(name=name))

    def _answer(self, answer: types.InlinedResponse) -> Summary | SummarizerError:
        if answer.error is not None:
            code = answer.error.code or 0
            return self._summarizer.error(
                f"gemini batch request failed: {code} {answer.error.message or ''}".rstrip(),
                transient=code in _TRANSIENT_CODES,
            )
        if answer.response is None:
            return self._summarizer.error("gemini batch answered a request with nothing", transient=True)
        try:
            return self._summarizer.summary_of(answer.response)
        except SummarizerError as exc:
            return exc

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except errors.APIError as exc:
            raise self._summarizer.api_error(exc) from exc
        except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError, errors.UnknownApiResponseError) as exc:
            raise self._summarizer.error(
                f"gemini batch call failed: {type(exc).__name__}: {exc}", transient=True
            ) from exc
