"""Which sentences make the summary: centrality weighed by position, without repeats, with antecedents."""

from __future__ import annotations

from dataclasses import dataclass

from app.model.summarizers.extractive.cleanup import leans_back
from app.model.summarizers.extractive.sentences import count_words
from app.model.summarizers.extractive.textrank import tokens

# News puts what matters first, and so do most texts people send: a sentence's centrality is weighed by
# 1 / (1 + rank / POSITION_SCALE), its rank counted among the quotable sentences (0 for the first).
POSITION_SCALE = 2.0
# Centrality relative to the mean, plus this, over 1 plus this: a lead that shares few words with the rest
# (a first sentence often names the topic once) keeps a fair score.
CENTRALITY_SMOOTHING = 1.0
# At most this many sentences when no max_words is asked for: about what a news lead takes to tell the story.
MAX_SUMMARY_SENTENCES = 3
# Maximal marginal relevance: a sentence's score shrinks by this share of its likeness to one already chosen
# (the share of its words, or of the other's if fewer, that they have in common), and one at least DUPLICATE
# alike is never taken: it would say again what the summary says ("Youssif holds his sister's hand Friday.").
REDUNDANCY = 0.5
DUPLICATE = 0.7
# A sentence that leans back is taken only with the sentences before it up to one that does not, at most this many.
MAX_ANTECEDENTS = 2


@dataclass(slots=True)
class Budget:
    """What is left of the summary's size: characters (each sentence plus one separator), words, sentences."""

    chars: int
    words: int
    sentences: int

    def fits(self, sentences: list[str]) -> bool:
        if len(sentences) > self.sentences or sum(map(count_words, sentences)) > self.words:
            return False
        return sum(len(s) + 1 for s in sentences) - 1 <= self.chars

    def spend(self, sentences: list[str]) -> None:
        self.chars -= sum(len(s) + 1 for s in sentences)
        self.words -= sum(map(count_words, sentences))
        self.sentences -= len(sentences)


def _likeness(a: frozenset[str], b: frozenset[str]) -> float:
    # The overlap coefficient: 1 when one sentence's words are all in the other, however long that one is.
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def weighted_scores(centrality: list[float], quotable: list[int]) -> list[float]:
    """Centrality (relative to the mean) times the position prior; 0 for sentences that are not quotable."""
    mean = sum(centrality) / len(centrality)
    scores = [0.0] * len(centrality)
    for rank, index in enumerate(quotable):
        relative = (centrality[index] / mean + CENTRALITY_SMOOTHING) / (1 + CENTRALITY_SMOOTHING)
        scores[index] = relative / (1 + rank / POSITION_SCALE)
    return scores


def _with_antecedents(index: int, sentences: list[str], quotable: set[int], chosen: set[int]) -> list[int] | None:
    """`index` and the sentences its opening pronoun needs, or None when they are not in the text."""
    unit = [index]
    while leans_back(sentences[unit[0]]) and unit[0] - 1 not in chosen:
        previous = unit[0] - 1
        if previous not in quotable or len(unit) > MAX_ANTECEDENTS:
            return None
        unit.insert(0, previous)
    return unit


def select(sentences: list[str], scores: list[float], quotable: list[int], budget: Budget) -> list[int]:
    """Greedy maximal marginal relevance within the budget; indexes in document order.

    A sentence that opens with a pronoun comes with the sentences it refers back to, or not at all.
    """
    sets = [frozenset(tokens(sentence)) for sentence in sentences]
    likeness = dict.fromkeys(quotable, 0.0)  # each candidate's greatest likeness to a chosen sentence
    chosen: set[int] = set()
    allowed = set(quotable)
    while likeness and budget.sentences > 0:
        best = max(likeness, key=lambda i: (round(scores[i] * (1 - REDUNDANCY * likeness[i]), 9), -i))
        del likeness[best]
        unit = _with_antecedents(best, sentences, allowed, chosen)
        if unit is None or not budget.fits([sentences[i] for i in unit]):
            continue
        budget.spend([sentences[i] for i in unit])
        chosen.update(unit)
        for i in list(likeness):
            likeness[i] = max(likeness[i], *(_likeness(sets[i], sets[j]) for j in unit))
            if i in chosen or likeness[i] >= DUPLICATE:
                del likeness[i]
    return sorted(chosen)
