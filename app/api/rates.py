"""Rates over the last minute, from samples of the queue's totals (which every API process
reads alike, so every replica reports the same rates)."""

from __future__ import annotations

from collections import deque

WINDOW_S = 60.0


class Rates:
    def __init__(self, window_s: float = WINDOW_S) -> None:
        self._window_s = window_s
        self._samples: deque[tuple[float, dict[str, int]]] = deque()

    def add(self, at: float, totals: dict[str, int]) -> None:
        self._samples.append((at, totals))
        # Keep one sample at least a window old: the base of the rate.
        while len(self._samples) > 2 and self._samples[1][0] <= at - self._window_s:
            self._samples.popleft()

    def per_minute(self) -> dict[str, float]:
        """Each count's change per minute between the oldest kept sample and the newest;
        `window_s` says over how long (under a minute just after start)."""
        if len(self._samples) < 2:
            return {"window_s": 0.0}
        (start, first), (end, last) = self._samples[0], self._samples[-1]
        span = end - start
        rates: dict[str, float] = {"window_s": round(span, 3)}
        for name, value in last.items():
            rates[name] = round((value - first.get(name, 0)) * 60 / span, 2) if span > 0 else 0.0
        return rates
