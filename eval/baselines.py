"""Baselines beside the app's summarizer: LEAD-k, and plain TextRank as the app had it before issue 18.

The TextRank here is a frozen copy of the app's former algorithm (the sentence splitter is still the app's),
so the table keeps comparing against it whatever the app's summarizer becomes.
"""

from __future__ import annotations

import math
import re
from itertools import islice
from operator import mul

from app.model.summarizers.extractive import split_sentences

MAX_CHARS = 600
RATIO = 0.25
MAX_SENTENCES = 400
DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1e-6


def lead(text: str, k: int) -> str:
    """The first `k` sentences of `text`: the news baseline every summarizer has to beat."""
    return " ".join(split_sentences(text)[:k])


_WORD_RE = re.compile(r"[^\W_]+")
_NO_SPACE_RUN_RE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOPWORDS = _word_set(
    "a an the and or but if of to in on at by for with from as is are was were be been being it its "
    "this that these those he she they we you i his her their our my your them him us not no so do "
    "does did has have had will would can could should may might than then there here which who what"
)


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)] or ([run] if run else [])


def _tokens(sentence: str) -> list[str]:
    lowered = sentence.lower()
    tokens = [gram for run in _NO_SPACE_RUN_RE.findall(lowered) for gram in _bigrams(run)]
    rest = _NO_SPACE_RUN_RE.sub(" ", lowered)
    tokens += [word for word in _WORD_RE.findall(rest) if word not in _STOPWORDS]
    return tokens or _bigrams("".join(sentence.split()))


def _transition_rows(token_lists: list[list[str]]) -> list[list[float]]:
    sets = [frozenset(tokens) for tokens in token_lists]
    logs = [math.log(len(tokens)) if tokens else 0.0 for tokens in token_lists]
    n = len(sets)
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            denominator = logs[i] + logs[j]
            if denominator > 0 and not sets[i].isdisjoint(sets[j]):
                weights[i][j] = weights[j][i] = len(sets[i] & sets[j]) / denominator
    totals = [sum(row) for row in weights]
    return [[w / t if t else 0.0 for w, t in zip(row, totals, strict=True)] for row in weights]


def _pagerank(rows: list[list[float]]) -> list[float]:
    scores = [1.0] * len(rows)
    for _ in range(MAX_ITERATIONS):
        new = [(1 - DAMPING) + DAMPING * sum(map(mul, row, scores)) for row in rows]
        settled = max(abs(a - b) for a, b in zip(new, scores, strict=True)) < TOLERANCE
        scores = new
        if settled:
            break
    return scores


def textrank(text: str, max_chars: int = MAX_CHARS) -> str:
    """The former app summarizer with default options: the most central sentences within a quarter of the text."""
    stripped = text.strip()
    sentences = list(islice(split_sentences(stripped), MAX_SENTENCES))
    if not sentences:
        return ""
    if len(sentences) <= 2 and len(stripped) <= max_chars:
        return stripped
    scores = _pagerank(_transition_rows([_tokens(sentence) for sentence in sentences]))
    ranked = sorted(range(len(sentences)), key=lambda i: (-round(scores[i], 9), i))
    top = sentences[ranked[0]]
    if len(top) > max_chars:
        return top[: max_chars - 1] + "\u2026"
    budget = min(max_chars, max(int(len(stripped) * RATIO), len(top)))
    chosen, used = [], -1
    for index in ranked:
        cost = len(sentences[index]) + 1
        if used + cost <= budget:
            chosen.append(index)
            used += cost
    return " ".join(sentences[i] for i in sorted(chosen))
