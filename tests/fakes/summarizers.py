"""A summarizer for API tests that need to see or hold the model call: it records each call's text
(and each cancelled one), can hold every call until the test opens its gate, and can report usage."""

from __future__ import annotations

import asyncio

from app.model.summarizers.base import Emit, Summary
from app.model.summarizers.testing import NoopSummarizer
from app.options import Options


class Recorder(NoopSummarizer):
    """NoopSummarizer that records `calls` (texts, in the order the calls began) and `cancelled`;
    with `gated`, each call waits for `gate`; with `usage`, reports (prompt, output) tokens."""

    def __init__(self, *, gated: bool = False, usage: tuple[int, int] | None = None) -> None:
        self.calls: list[str] = []
        self.cancelled: list[str] = []
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self._usage = usage

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        self.calls.append(text)
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(text)
            raise
        if self._usage is not None:
            return Summary(text="s", model="metered", prompt_tokens=self._usage[0], output_tokens=self._usage[1])
        return await super().summarize(text, options, emit)
