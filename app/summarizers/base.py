"""The Summarizer protocol every backend implements, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Summary:
    """A finished summary and the model (or algorithm) that wrote it."""

    text: str
    model: str


class SummarizerError(Exception):
    """A summarizer could not produce a summary.

    `transient` says whether trying again later may succeed (rate limits, 5xx,
    timeouts) or not (bad input, blocked content). `retry_after_s` is a delay
    the backend asked for, when it gave one.
    """

    def __init__(self, message: str, *, transient: bool, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after_s = retry_after_s


class Summarizer(Protocol):
    """Turns a text into a summary. Holds no Redis and no job state."""

    name: str

    async def summarize(self, text: str) -> Summary:
        """Summarize `text`; raise SummarizerError when it cannot."""
        ...

    async def aclose(self) -> None:
        """Release connections or executors the summarizer holds."""
        ...
