"""Model fallback: GEMINI_MODEL names several models; an attempt goes to the first one available."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from app.metrics import Metrics
from app.model.layer import ModelLayer
from app.model.summarizers.base import Emit, Summarizer, SummarizerError, Summary, no_emit
from app.options import Options
from app.queue.record import Outcome

log = logging.getLogger(__name__)


class ModelChain:
    """The model layers of several models, each with its own quota, cache key and prices, tried in
    order within one attempt: a model is passed over while it is overloaded (a 503 seen in the last
    FALLBACK_AFTER seconds, here) or cooling down after a 429 for longer than FALLBACK_AFTER (every
    worker's shared cool-down), and a call that fails so moves on to the next model, unless it had
    already written part of its summary (the job is retried then, its stream starting over). The
    last model is always tried: with every model away, the attempt fails as it would with one."""

    def __init__(self, layers: Sequence[ModelLayer], metrics: Metrics, fallback_after_s: float) -> None:
        self._layers = list(layers)
        self._metrics = metrics
        self._after_s = fallback_after_s
        self._overloaded_until = [0.0] * len(self._layers)

    @property
    def summarizer(self) -> Summarizer:
        return self._layers[0].summarizer

    @property
    def models(self) -> list[str]:
        return [layer.summarizer.rate_limited_model or layer.summarizer.name for layer in self._layers]

    async def start(self) -> None:
        """Every model's client, before the worker takes jobs: a fallback's first call pays nothing extra."""
        for layer in self._layers:
            await layer.start()

    async def run(self) -> None:
        await asyncio.gather(*(layer.run() for layer in self._layers))

    async def aclose(self) -> None:
        for layer in self._layers:
            await layer.aclose()
        for layer in self._layers[1:]:  # the first is its caller's, as with one model
            await layer.summarizer.aclose()

    def outcome(self, summary: Summary) -> Outcome:
        """At the prices of the model that answered."""
        return self._layers[summary.route].outcome(summary)

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        last = len(self._layers) - 1
        for route, layer in enumerate(self._layers):
            if route < last and (reason := await self._away(route, layer)):
                self._passed_over(route, reason)
                continue
            wrote = False

            async def tracked(delta: str) -> None:
                nonlocal wrote
                wrote = True
                await emit(delta)

            try:  # (no_emit passes as it is: the summarizer then makes a plain call)
                summary = await layer.summarize(text, options, emit if emit is no_emit else tracked)
            except SummarizerError as exc:
                if route == last or wrote or not (exc.overloaded or exc.quota):
                    raise
                if exc.overloaded:
                    self._overloaded_until[route] = time.monotonic() + self._after_s
                self._passed_over(route, "overloaded" if exc.overloaded else "quota")
                continue
            return replace(summary, route=route) if route else summary
        raise AssertionError("the last model is always tried")

    async def _away(self, route: int, layer: ModelLayer) -> str:
        """Why this model is passed over now ('' if it is not)."""
        if time.monotonic() < self._overloaded_until[route]:
            return "overloaded"
        return "cooling" if await layer.cooling_s() > self._after_s else ""

    def _passed_over(self, route: int, reason: str) -> None:
        model = self.models[route]
        self._metrics.fallbacks.labels(model, reason).inc()
        log.info("model passed over", extra={"model": model, "reason": reason, "next": self.models[route + 1]})
