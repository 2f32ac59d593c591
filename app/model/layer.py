"""Between a job and its summarizer: the result cache with its single flight, the shared quota, usage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from app.config import Settings
from app.connection.errors import RETRY_LATER
from app.metrics import Metrics
from app.model.cache import ResultCache
from app.model.deadlines import Deadlines
from app.model.limiter import RateLimiter
from app.model.summarizers.base import Emit, Summarizer, SummarizerError, Summary
from app.model.usage import Prices, outcome
from app.options import Options
from app.queue.record import Outcome

if TYPE_CHECKING:
    from app.queue.store import Queue

log = logging.getLogger(__name__)

T = TypeVar("T")

# A 429 that names no delay still holds every worker back this long.
DEFAULT_COOL_DOWN_S = 1.0
# While another process calls the model for a text, look for its answer this often (growing to the cap).
FOLLOW_FIRST_S, FOLLOW_MAX_S = 0.05, 0.5


class ModelLayer:
    """Serves a summary from the cache when it can, else calls the summarizer in its turn
    under the model's shared quota. Identical concurrent jobs share one call: in this
    process through a shared future, across processes through the cache's lock."""

    def __init__(
        self,
        summarizer: Summarizer,
        limiter: RateLimiter | None = None,
        cache: ResultCache | None = None,
        metrics: Metrics | None = None,
        *,
        job_timeout_s: float = 300.0,
        prices: Prices | None = None,
    ) -> None:
        self.summarizer = summarizer
        self._metrics = metrics or Metrics()
        self._limiter = limiter
        self._cache = cache
        self._prices = prices or Prices()
        self._flights: dict[str, asyncio.Future[Summary]] = {}
        # The model call alone runs under JOB_TIMEOUT: waiting for a quota slot or for
        # another process's call of the same text is not the call.
        self.deadlines = Deadlines(job_timeout_s)
        self._timed = self.deadlines.timed

    @classmethod
    def from_settings(cls, settings: Settings, queue: Queue, summarizer: Summarizer, metrics: Metrics) -> ModelLayer:
        """The layer the settings ask for: a shared quota for a rate-limited model, a cache
        for a summarizer whose results are worth keeping."""
        limiter = None
        if summarizer.rate_limited_model:
            model, rpm, tpm = summarizer.rate_limited_model, settings.gemini_rpm, settings.gemini_tpm
            limiter = RateLimiter(queue.redis, queue.keys, model, rpm, tpm)
        cache = None
        if settings.result_cache_ttl_s and summarizer.cache_id:
            # The lock is a lease renewed while the call runs: it lapses with its holder as its
            # heartbeat does, so a recovered job's text is free again by the time it is recovered.
            cache = ResultCache(queue.redis, queue.keys, settings.result_cache_ttl_s, settings.heartbeat_ttl_s)
        prices = Prices(settings.gemini_price_input_per_m, settings.gemini_price_output_per_m)
        for model, paid_in, paid_out in settings.gemini_prices:  # GEMINI_PRICES names this model's own
            if model == summarizer.rate_limited_model:
                prices = Prices(paid_in, paid_out)
        return cls(summarizer, limiter, cache, metrics, job_timeout_s=settings.job_timeout_s, prices=prices)

    async def cooling_s(self) -> float:
        """How long this model's shared quota still holds calls back after a 429 (0 without a quota)."""
        return await _redis_step(self._limiter.cooling_s()) if self._limiter is not None else 0.0

    async def start(self) -> None:
        """Open what the summarizer's first call needs, before the worker takes jobs."""
        await self.summarizer.start()

    async def run(self) -> None:
        """The layer's background work (the deadline sweeper), until `aclose()`."""
        await self.deadlines.run()

    async def aclose(self) -> None:
        self.deadlines.stop()
        if self._cache is not None:
            await self._cache.aclose()

    def outcome(self, summary: Summary, *, batch: bool = False) -> Outcome:
        """What the job of `summary` records: usage, and its cost at PRICES (at the batch price
        for an answer of a batch job)."""
        return outcome(summary, self._prices.batch() if batch else self._prices)

    async def cached_many(self, requests: list[tuple[str, Options]]) -> list[Summary | None]:
        """The stored summary of each (text, options), where the cache holds one (no claim, no call)."""
        if self._cache is None or self.summarizer.cache_id is None:
            return [None] * len(requests)
        cache_id = self.summarizer.cache_id
        hits = await self._cache.lookup_many(
            [ResultCache.digest(cache_id, options, text) for text, options in requests]
        )
        self._metrics.cache_hits.inc(sum(hit is not None for hit in hits))
        return hits

    async def remember_many(self, made: list[tuple[str, Options, Summary]]) -> None:
        """Keep summaries made outside this layer (a batch's answers) for the next jobs of the same text."""
        if self._cache is not None and self.summarizer.cache_id is not None:
            cache_id = self.summarizer.cache_id
            await self._cache.store_many([(ResultCache.digest(cache_id, o, t), s) for t, o, s in made])

    def summarize(self, text: str, options: Options, emit: Emit) -> Awaitable[Summary]:
        """The summary of `text`; a plain function so that, with neither cache nor quota
        (the cheap summarizers), a job pays no extra coroutine for this layer."""
        if self._cache is None:
            if self._limiter is None:
                return self._timed(self.summarizer.summarize(text, options, emit))
            return self._call(text, options, emit)
        return self._cached(text, options, emit)

    async def _cached(self, text: str, options: Options, emit: Emit) -> Summary:
        assert self._cache is not None and self.summarizer.cache_id is not None
        digest = ResultCache.digest(self.summarizer.cache_id, options, text)
        while (flight := self._flights.get(digest)) is not None:
            try:
                summary = replace(await asyncio.shield(flight), cached=True, prompt_tokens=0, output_tokens=0)
            except asyncio.CancelledError:
                if _cancelled_here():
                    raise
                continue  # the job that made the call was stopped (a shutdown): take its place
            await emit(summary.text)
            self._metrics.cache_hits.inc()
            return summary
        flight = self._flights[digest] = asyncio.get_running_loop().create_future()
        flight.add_done_callback(_retrieve)
        try:
            summary = await self._lead(digest, text, options, emit)
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as exc:
            flight.set_exception(exc)  # followers share the outcome: the same call would fail the same way
            raise
        else:
            flight.set_result(summary)
            return summary
        finally:
            del self._flights[digest]

    async def _lead(self, digest: str, text: str, options: Options, emit: Emit) -> Summary:
        """This process's call for `digest`: the stored summary, else the model's, made by
        whichever process claims the digest first (the others look again, backing off)."""
        assert self._cache is not None
        cache, delay_s = self._cache, FOLLOW_FIRST_S
        while True:
            claimed, hit = await _redis_step(cache.claim(digest))
            if hit is not None:
                if claimed:
                    with contextlib.suppress(*RETRY_LATER):  # the lock expires on its own
                        await cache.release(digest, None)
                await emit(hit.text)
                self._metrics.cache_hits.inc()
                return hit
            if claimed:
                break
            await asyncio.sleep(delay_s)  # another process is calling the model for this text
            delay_s = min(delay_s * 2, FOLLOW_MAX_S)
        summary = None
        try:
            summary = await self._call(text, options, emit)
            return summary
        finally:
            try:
                await cache.release(digest, summary)
            except RETRY_LATER as exc:  # the summary (if made) stands; only its reuse is lost
                log.warning("result not cached: redis unreachable", extra={"error": repr(exc)})

    async def _call(self, text: str, options: Options, emit: Emit) -> Summary:
        limiter = self._limiter
        if limiter is None:
            return await self._timed(self.summarizer.summarize(text, options, emit))
        model, metrics = limiter.model, self._metrics
        estimate = self.summarizer.estimate_tokens(text, options)
        waited = await _redis_step(limiter.acquire(estimate))  # outside the deadline: waiting is not the call
        metrics.limiter_wait.observe(waited)
        try:
            summary = await self._timed(self.summarizer.summarize(text, options, emit))
        except SummarizerError as exc:
            metrics.model_calls.labels(model, "quota" if exc.quota else "error").inc()
            if exc.quota:
                await _redis_step(limiter.cool_down(exc.retry_after_s or DEFAULT_COOL_DOWN_S))
            raise
        except TimeoutError:
            metrics.model_calls.labels(model, "error").inc()
            raise
        metrics.model_calls.labels(model, "ok").inc()
        metrics.tokens.labels(model, "prompt").inc(summary.prompt_tokens or 0)
        metrics.tokens.labels(model, "output").inc(summary.output_tokens or 0)
        if summary.prompt_tokens is not None:
            try:
                await limiter.settle(estimate, summary.prompt_tokens + (summary.output_tokens or 0))
            except RETRY_LATER as exc:
                log.warning("token usage not settled: redis unreachable", extra={"error": repr(exc)})
        return summary


async def _redis_step(work: Awaitable[T]) -> T:
    """A Redis step of the model layer: unreachable Redis fails the attempt as transient,
    so the job is retried with backoff like any other passing failure."""
    try:
        return await work
    except RETRY_LATER as exc:
        raise SummarizerError(f"redis unreachable or full before the model call: {exc!r}", transient=True) from exc


def _cancelled_here() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _retrieve(flight: asyncio.Future[Summary]) -> None:
    # A failed call with no follower is not an "exception never retrieved": its job handles it.
    if not flight.cancelled():
        flight.exception()
