"""Baselines beside the app's summarizer: LEAD-k, and plain TextRank as the app had it before issue 18.

The TextRank here is the app's former selection, frozen: the most central sentences within a quarter of
the text, with no position prior, no redundancy control and no pronoun rule. Its pieces are the app's
own (sentence splitter, tokens, the similarity graph with no sentence leaning back, PageRank), so the
table compares selections, not copies of the same arithmetic.
"""

from __future__ import annotations

from itertools import islice

from app.model.summarizers.extractive import split_sentences
from app.model.summarizers.extractive.textrank import textrank as textrank_scores
from app.model.summarizers.extractive.textrank import tokens, transition_rows

MAX_CHARS = 600
RATIO = 0.25
MAX_SENTENCES = 400


def lead(text: str, k: int) -> str:
    """The first `k` sentences of `text`: the news baseline every summarizer has to beat."""
    return " ".join(split_sentences(text)[:k])


def textrank(text: str, max_chars: int = MAX_CHARS) -> str:
    """The former app summarizer with default options: the most central sentences within a quarter of the text."""
    stripped = text.strip()
    sentences = list(islice(split_sentences(stripped), MAX_SENTENCES))
    if not sentences:
        return ""
    if len(sentences) <= 2 and len(stripped) <= max_chars:
        return stripped
    scores = textrank_scores(transition_rows([tokens(sentence) for sentence in sentences]))
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
