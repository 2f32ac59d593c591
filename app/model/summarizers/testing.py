"""Summarizers that do no real work: for benchmarks (noop) and tests of concurrency and faults (sleep)."""

from __future__ import annotations

import asyncio

from app.model.summarizers.base import Emit, Summary
from app.options import Options


class NoopSummarizer:
    """Answers at once with the text's first 80 characters: measures the queue, not a model.
    Ignores options and streams nothing."""

    name = "noop"
    cache_id = None
    rate_limited_model = None

    async def start(self) -> None:
        return None

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        return Summary(text=text[:80], model="noop")

    def estimate_tokens(self, text: str, options: Options) -> int:
        return 0

    async def aclose(self) -> None:
        return None


class SleepSummarizer(NoopSummarizer):
    """Waits `delay_s` like a model call would, then answers like NoopSummarizer."""

    name = "sleep"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        await asyncio.sleep(self.delay_s)
        return Summary(text=text[:80], model=f"sleep-{self.delay_s:g}s")
