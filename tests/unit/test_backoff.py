"""Retry backoff: exponential, fully jittered, capped, and a delay the model asks for wins."""

from __future__ import annotations

import random

import pytest

from app.worker.runner import backoff_s


@pytest.mark.parametrize("attempt", [1, 2, 3, 6, 20])
def test_the_delay_stays_within_the_exponential_ceiling_and_the_cap(attempt: int) -> None:
    random.seed(attempt)
    delays = [backoff_s(attempt, base_s=1.0, cap_s=30.0, asked_s=None) for _ in range(500)]
    ceiling = min(30.0, 2.0 ** (attempt - 1))
    assert all(0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling * 0.8, "full jitter spreads delays over the whole range"
    assert min(delays) < ceiling * 0.2


def test_a_delay_the_model_asked_for_wins_when_longer() -> None:
    assert backoff_s(1, base_s=1.0, cap_s=30.0, asked_s=45.0) == 45.0
    assert backoff_s(1, base_s=0.0, cap_s=30.0, asked_s=2.0) == 2.0
