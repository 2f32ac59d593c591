"""The Summarizer protocol every backend implements, and what it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from app.options import Options

# Where a summarizer sends each piece of text as it is written (in order; awaited before the next).
Emit = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Summary:
    """A finished summary and the model (or algorithm) that wrote it.

    Token counts are None when the backend does not count tokens. `truncated`: the
    model stopped at its output limit (MAX_TOKENS). `unhonoured`: options the backend
    could not apply. `cached`: no model call was made for this job.
    """

    text: str
    model: str
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    truncated: bool = False
    unhonoured: tuple[str, ...] = ()
    cached: bool = False
    route: int = 0  # which of the model layer's models answered (0: the first; app/model/fallback.py)


class SummarizerError(Exception):
    """A summarizer could not produce a summary.

    `transient` says whether trying again later may succeed (rate limits, 5xx,
    timeouts) or not (bad input, blocked content). `retry_after_s` is a delay
    the backend asked for, when it gave one. `quota`: the model's rate limit was
    hit (HTTP 429), which every worker calling that model should wait out. `overloaded`: the
    model is unavailable for now (HTTP 503), where another model may answer.
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after_s: float | None = None,
        quota: bool = False,
        overloaded: bool = False,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after_s = retry_after_s
        self.quota = quota
        self.overloaded = overloaded


async def no_emit(delta: str) -> None:
    """An Emit that drops the text: for callers with nobody listening."""


class Summarizer(Protocol):
    """Turns a text into a summary. Holds no Redis and no job state.

    `cache_id` names the model and prompt version whose answers may be reused for the
    same text and options (None: not worth caching). `rate_limited_model` names the
    model whose shared quota (GEMINI_RPM/GEMINI_TPM, 429 cool-downs) the calls count
    against (None: no quota).
    """

    name: str
    cache_id: str | None
    rate_limited_model: str | None

    async def start(self) -> None:
        """Open what the first call needs (clients, connections), before the worker takes jobs."""
        ...

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        """Summarize `text`, sending the summary's text to `emit` as it is written;
        raise SummarizerError when it cannot."""
        ...

    def estimate_tokens(self, text: str, options: Options) -> int:
        """Prompt plus output tokens a call for `text` is expected to use, before the call."""
        ...

    async def aclose(self) -> None:
        """Release connections or executors the summarizer holds."""
        ...
