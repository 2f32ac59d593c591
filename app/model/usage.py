"""What a summary cost and what its job records of it: prices, and the Outcome of a Summary."""

from __future__ import annotations

from dataclasses import dataclass

from app.model.summarizers.base import Summary
from app.queue.record import Outcome

# Gemini's Batch API bills its requests at half the interactive price.
BATCH_PRICE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens (GEMINI_PRICE_INPUT_PER_M / _OUTPUT_PER_M); None: cost unknown."""

    input_per_m: float | None = None
    output_per_m: float | None = None

    def batch(self) -> Prices:
        """The prices of a Gemini batch job's requests: BATCH_PRICE_SHARE of these."""
        if self.input_per_m is None and self.output_per_m is None:
            return self
        share = BATCH_PRICE_SHARE
        return Prices(
            None if self.input_per_m is None else self.input_per_m * share,
            None if self.output_per_m is None else self.output_per_m * share,
        )

    def cost(self, summary: Summary) -> float | None:
        if (self.input_per_m is None and self.output_per_m is None) or summary.prompt_tokens is None:
            return None
        paid_in = (summary.prompt_tokens or 0) * (self.input_per_m or 0.0)
        paid_out = (summary.output_tokens or 0) * (self.output_per_m or 0.0)
        return round((paid_in + paid_out) / 1_000_000, 9)


def outcome(summary: Summary, prices: Prices) -> Outcome:
    """The done job's Outcome: a summary served from the cache cost nothing."""
    known = summary.prompt_tokens is not None
    return Outcome(
        summary=summary.text,
        model=summary.model,
        cached=summary.cached,
        truncated=summary.truncated,
        prompt_tokens=summary.prompt_tokens,
        output_tokens=(summary.output_tokens or 0) if known else None,
        cost_usd=None if summary.cached else prices.cost(summary),
        unhonoured_options=tuple(summary.unhonoured),
    )
