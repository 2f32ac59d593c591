"""Summarizers that do no real work: for benchmarks (noop) and tests of concurrency and faults (sleep)."""

from __future__ import annotations

import asyncio

from app.summarizers.base import Summary


class NoopSummarizer:
    """Answers at once with the text's first 80 characters: measures the queue, not a model."""

    name = "noop"

    async def summarize(self, text: str) -> Summary:
        return Summary(text=text[:80], model="noop")

    async def aclose(self) -> None:
        return None


class SleepSummarizer:
    """Waits `delay_s` like a model call would, then answers like NoopSummarizer."""

    name = "sleep"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    async def summarize(self, text: str) -> Summary:
        await asyncio.sleep(self.delay_s)
        return Summary(text=text[:80], model=f"sleep-{self.delay_s:g}s")

    async def aclose(self) -> None:
        return None
