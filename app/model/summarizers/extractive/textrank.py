"""TextRank over sentences: each sentence's centrality in the graph of the words they share."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from operator import mul

from app.model.summarizers.extractive.sentences import word_set

DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1e-6

_WORD_RE = re.compile(r"[^\W_]+")
# Runs of scripts written without spaces (Thai, Lao, Myanmar, Khmer, kana, CJK ideographs): one "word"
# would be a whole clause, so they are compared by character bigrams instead.
NO_SPACE_RUN_RE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)
# Function words overlap between any two English sentences and would drown the content words.
_STOPWORDS = word_set(
    "a an the and or but if of to in on at by for with from as is are was were be been being it its "
    "this that these those he she they we you i his her their our my your them him us not no so do "
    "does did has have had will would can could should may might than then there here which who what"
)


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)] or ([run] if run else [])


def tokens(sentence: str) -> list[str]:
    lowered = sentence.lower()
    tokens = [gram for run in NO_SPACE_RUN_RE.findall(lowered) for gram in _bigrams(run)]
    rest = NO_SPACE_RUN_RE.sub(" ", lowered)
    tokens += [word for word in _WORD_RE.findall(rest) if word not in _STOPWORDS]
    if not tokens:
        # Emoji or symbols only: their characters are all there is to compare.
        tokens = _bigrams("".join(sentence.split()))
    return tokens


def transition_rows(token_lists: list[list[str]], leaning: Collection[int] = ()) -> list[list[float]]:
    """Row i holds, for each sentence j, the share of j's vote that goes to i.

    Similarity is TextRank's: shared words / (log |Si| + log |Sj|), with |S| the number of tokens. A sentence
    in `leaning` opens with a pronoun for something the sentence before it names: one more shared word, so
    "Redis is a data store. It supports lists." links the two, and the first gets the second's vote.
    """
    sets = [frozenset(tokens) for tokens in token_lists]
    logs = [math.log(len(tokens)) if tokens else 0.0 for tokens in token_lists]
    n = len(sets)
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            denominator = logs[i] + logs[j]
            if denominator > 0 and not sets[i].isdisjoint(sets[j]):
                weights[i][j] = weights[j][i] = len(sets[i] & sets[j]) / denominator
    for j in leaning:
        denominator = logs[j - 1] + logs[j] if j else 0.0
        if denominator > 0:
            weights[j - 1][j] = weights[j][j - 1] = weights[j][j - 1] + 1 / denominator
    totals = [sum(row) for row in weights]
    # The graph is undirected, so the weight from j to i is weights[i][j].
    return [[w / t if t else 0.0 for w, t in zip(row, totals, strict=True)] for row in weights]


def textrank(rows: list[list[float]]) -> list[float]:
    """Power iteration of PageRank's formula, as in the TextRank paper, until scores settle."""
    scores = [1.0] * len(rows)
    for _ in range(MAX_ITERATIONS):
        new = [(1 - DAMPING) + DAMPING * sum(map(mul, row, scores)) for row in rows]
        settled = max(abs(a - b) for a, b in zip(new, scores, strict=True)) < TOLERANCE
        scores = new
        if settled:
            break
    return scores
