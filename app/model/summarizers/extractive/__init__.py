"""An offline, deterministic extractive summarizer: sentence splitting, TextRank with a lead prior, MMR."""

from __future__ import annotations

import asyncio
from itertools import islice, pairwise

from app.model.summarizers.base import Emit, SummarizerError, Summary
from app.model.summarizers.extractive.cleanup import is_quotable, leans_back, without_dateline
from app.model.summarizers.extractive.selection import MAX_SUMMARY_SENTENCES, Budget, select, weighted_scores
from app.model.summarizers.extractive.sentences import CJK_ENDS, CLOSERS, count_words, iter_sentences, split_sentences
from app.model.summarizers.extractive.textrank import textrank, tokens, transition_rows
from app.options import Options

__all__ = ["MODEL", "ExtractiveSummarizer", "split_sentences", "summarize_text"]

MODEL = "extractive-textrank"
DEFAULT_MAX_CHARS = 600
# The summary aims at about a quarter of the text, never more than max_chars (and MAX_SUMMARY_SENTENCES).
DEFAULT_RATIO = 0.25
# TextRank builds an n x n graph; capping n keeps a 100k-char text well under a second.
MAX_SENTENCES = 400


def summarize_text(
    text: str, max_chars: int = DEFAULT_MAX_CHARS, max_words: int | None = None, form: str | None = None
) -> str:
    """The text's leading central sentences, in document order, within about a quarter of its length.

    Sentences are weighed by TextRank centrality and by position (what matters comes first), chosen by
    maximal marginal relevance (no sentence that repeats one already chosen), and never open the summary
    with a pronoun whose antecedent is left out. Datelines, bylines, page furniture and fragments are not
    quoted. At least one sentence is kept, at most MAX_SUMMARY_SENTENCES unless `max_words` is given;
    nothing longer than `max_chars` (or `max_words` words) is returned. Text of one or two sentences
    comes back as is (stripped) when it fits. `form` "bullets" puts each sentence on a line of its own
    starting with "- "; "paragraph" joins them with spaces; None keeps the text's own line breaks.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    stripped = text.strip()
    sentences = list(islice(iter_sentences(stripped), MAX_SENTENCES))
    if not sentences:
        return ""
    words = max_words or len(stripped)  # a text has fewer words than characters
    if form is None and len(sentences) <= 2 and len(stripped) <= max_chars and count_words(stripped) <= words:
        return stripped
    sentences = [without_dateline(sentence) for sentence in sentences]
    quotable = [i for i, sentence in enumerate(sentences) if is_quotable(sentence)] or list(range(len(sentences)))
    leaning = {i for i, sentence in enumerate(sentences) if leans_back(sentence)}
    scores = weighted_scores(textrank(transition_rows([tokens(sentence) for sentence in sentences], leaning)), quotable)
    # The best sentence that can open a summary. Rounding lets scores equal up to float noise tie, and ties go
    # to the earlier sentence.
    openers = [i for i in quotable if i not in leaning] or quotable
    top = sentences[min(openers, key=lambda i: (-round(scores[i], 9), i))]
    if len(top) > max_chars or count_words(top) > words:
        return _format([_truncate(_first_words(top, words), max_chars)], form)
    chars = min(max_chars, max(int(len(stripped) * DEFAULT_RATIO), len(top)))
    budget = Budget(chars, words, len(sentences) if max_words else MAX_SUMMARY_SENTENCES)
    chosen = select(sentences, scores, quotable, budget) or [sentences.index(top)]
    return _format([sentences[i] for i in chosen], form)


def _first_words(sentence: str, count: int) -> str:
    words = sentence.split()
    return sentence if len(words) <= count else " ".join(words[:count]) + "\u2026"


def _format(sentences: list[str], form: str | None) -> str:
    if form == "bullets":
        return "\n".join(f"- {sentence}" for sentence in sentences)
    if form == "paragraph":
        return " ".join(sentences)
    return _join(sentences)


def _join(sentences: list[str]) -> str:
    parts = [sentences[0]]
    for previous, sentence in pairwise(sentences):
        parts.extend((_separator(previous), sentence))
    return "".join(parts)


def _separator(sentence: str) -> str:
    # CJK sentences follow each other with no space. A sentence without an end mark was a line of its own
    # (a title, a list item), so it stays one: the summary splits back into the same sentences.
    end = sentence.rstrip(CLOSERS)[-1:]
    if end and end in CJK_ENDS:
        return ""
    return " " if end and end in ".!?\u2026" else "\n"


def _truncate(sentence: str, limit: int) -> str:
    """Cut `sentence` to `limit` characters on a word boundary, ending with an ellipsis."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if not sentence[len(cut)].isspace():
        head, space, _ = cut.rpartition(" ")
        cut = head if space and head else cut  # no space at all (CJK, a long URL): cut mid-word
    return cut.rstrip(" ,;:-") + "\u2026"


class ExtractiveSummarizer:
    """Summarizes with TextRank on the local CPU: no network, no model, same input same output.
    It picks sentences of the text, so it cannot write in another language."""

    name: str = "extractive"
    cache_id = None  # as fast as a cache lookup
    rate_limited_model = None

    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.max_chars = max_chars

    async def start(self) -> None:
        return None

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        if not text.strip():
            raise SummarizerError("text is empty", transient=False)
        # TextRank is pure-Python CPU work (tens of milliseconds on a long text). On the event loop it
        # would stall every other job, lease renewal and HTTP request this process serves; in a thread
        # the loop keeps running (the GIL is handed back to it every few milliseconds).
        summary = await asyncio.to_thread(summarize_text, text, self.max_chars, options.max_words, options.format)
        await emit(summary)  # written all at once: one delta
        unhonoured = ("language",) if options.language is not None else ()
        return Summary(text=summary, model=MODEL, unhonoured=unhonoured)

    def estimate_tokens(self, text: str, options: Options) -> int:
        return 0

    async def aclose(self) -> None:
        return None
