"""Between a job and its summarizer: the result cache with its single flight, the shared quota, usage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from app.connection.factory import UNAVAILABLE
from app.metrics import Metrics
from app.model.cache import ResultCache
from app.model.limiter import RateLimiter
from app.model.summarizers.base import Emit, Summarizer, SummarizerError, Summary
from app.options import Options

log = logging.getLogger(__name__)

T = TypeVar("T")
# Runs the model call under the job's deadline (JOB_TIMEOUT); nothing else is timed.
Timed = Callable[[Awaitable[Summary]], Awaitable[Summary]]

# A 429 that names no delay still holds every worker back this long.
DEFAULT_COOL_DOWN_S = 1.0
# While another process calls the model for a text, look for its answer this often (growing to the cap).
FOLLOW_FIRST_S, FOLLOW_MAX_S = 0.05, 0.5


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens (GEMINI_PRICE_INPUT_PER_M / _OUTPUT_PER_M); None: cost unknown."""

    input_per_m: float | None = None
    output_per_m: float | None = None

    def cost(self, summary: Summary) -> float | None:
        if (self.input_per_m is None and self.output_per_m is None) or summary.prompt_tokens is None:
            return None
        paid_in = (summary.prompt_tokens or 0) * (self.input_per_m or 0.0)
        paid_out = (summary.output_tokens or 0) * (self.output_per_m or 0.0)
        return round((paid_in + paid_out) / 1_000_000, 9)


def outcome(summary: Summary, prices: Prices) -> tuple[tuple[str | int | float, ...], dict[str, object]]:
    """A done job's record fields (name, value, ...) and the facts its event adds. The
    record holds `cached` and `truncated` only when true (decode_record fills in false)."""
    fields: tuple[str | int | float, ...] = ("summary", summary.text, "model", summary.model)
    facts: dict[str, object] = {"cached": summary.cached, "truncated": summary.truncated}
    if summary.cached:
        fields += ("cached", 1)
    if summary.truncated:
        fields += ("truncated", 1)
    if summary.prompt_tokens is not None:
        output_tokens = summary.output_tokens or 0
        facts["prompt_tokens"], facts["output_tokens"] = summary.prompt_tokens, output_tokens
        fields += ("prompt_tokens", summary.prompt_tokens, "output_tokens", output_tokens)
        cost = None if summary.cached else prices.cost(summary)
        if cost is not None:
            facts["cost_usd"] = cost
            fields += ("cost_usd", cost)
    if summary.unhonoured:
        facts["unhonoured_options"] = list(summary.unhonoured)
        fields += ("unhonoured_options", ",".join(summary.unhonoured))
    return fields, facts


class ModelLayer:
    """Serves a summary from the cache when it can, else calls the summarizer in its turn
    under the model's shared quota. Identical concurrent jobs share one call: in this
    process through a shared future, across processes through the cache's lock."""

    def __init__(
        self,
        summarizer: Summarizer,
        limiter: RateLimiter | None,
        cache: ResultCache | None,
        metrics: Metrics | None = None,
    ) -> None:
        self.summarizer = summarizer
        self._metrics = metrics or Metrics()
        self._limiter = limiter
        self._cache = cache
        self._flights: dict[str, asyncio.Future[Summary]] = {}

    async def aclose(self) -> None:
        if self._cache is not None:
            await self._cache.aclose()

    def summarize(self, text: str, options: Options, emit: Emit, timed: Timed) -> Awaitable[Summary]:
        """The summary of `text`; a plain function so that, with neither cache nor quota
        (the cheap summarizers), a job pays no extra coroutine for this layer."""
        if self._cache is None:
            if self._limiter is None:
                return timed(self.summarizer.summarize(text, options, emit))
            return self._call(text, options, emit, timed)
        return self._cached(text, options, emit, timed)

    async def _cached(self, text: str, options: Options, emit: Emit, timed: Timed) -> Summary:
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
            summary = await self._lead(digest, text, options, emit, timed)
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

    async def _lead(self, digest: str, text: str, options: Options, emit: Emit, timed: Timed) -> Summary:
        """This process's call for `digest`: the stored summary, else the model's, made by
        whichever process claims the digest first (the others look again, backing off)."""
        assert self._cache is not None
        cache, delay_s = self._cache, FOLLOW_FIRST_S
        while True:
            claimed, hit = await _step(cache.claim(digest))
            if hit is not None:
                if claimed:
                    with contextlib.suppress(*UNAVAILABLE):  # the lock expires on its own
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
            summary = await self._call(text, options, emit, timed)
            return summary
        finally:
            try:
                await cache.release(digest, summary)
            except UNAVAILABLE as exc:  # the summary (if made) stands; only its reuse is lost
                log.warning("result not cached: redis unreachable", extra={"error": repr(exc)})

    async def _call(self, text: str, options: Options, emit: Emit, timed: Timed) -> Summary:
        limiter = self._limiter
        if limiter is None:
            return await timed(self.summarizer.summarize(text, options, emit))
        model, metrics = limiter.model, self._metrics
        estimate = self.summarizer.estimate_tokens(text, options)
        waited = await _step(limiter.acquire(estimate))  # outside the deadline: waiting is not the call
        metrics.limiter_wait.observe(waited)
        try:
            summary = await timed(self.summarizer.summarize(text, options, emit))
        except SummarizerError as exc:
            metrics.model_calls.labels(model, "quota" if exc.quota else "error").inc()
            if exc.quota:
                await _step(limiter.cool_down(exc.retry_after_s or DEFAULT_COOL_DOWN_S))
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
            except UNAVAILABLE as exc:
                log.warning("token usage not settled: redis unreachable", extra={"error": repr(exc)})
        return summary


async def _step(work: Awaitable[T]) -> T:
    """A Redis step of the model layer: unreachable Redis fails the attempt as transient,
    so the job is retried with backoff like any other passing failure."""
    try:
        return await work
    except UNAVAILABLE as exc:
        raise SummarizerError(f"redis unreachable before the model call: {exc!r}", transient=True) from exc


def _cancelled_here() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _retrieve(flight: asyncio.Future[Summary]) -> None:
    # A failed call with no follower is not an "exception never retrieved": its job handles it.
    if not flight.cancelled():
        flight.exception()
