"""An offline, deterministic extractive summarizer: sentence splitting plus TextRank."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterator
from itertools import islice, pairwise
from operator import mul

from app.model.summarizers.base import Emit, SummarizerError, Summary
from app.options import Options

MODEL = "extractive-textrank"
DEFAULT_MAX_CHARS = 600
# The summary aims at about a quarter of the text, never more than max_chars.
DEFAULT_RATIO = 0.25
# TextRank builds an n x n graph; capping n keeps a 100k-char text well under a second.
MAX_SENTENCES = 400
DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1e-6

# ---------------------------------------------------------------- sentence splitting

# Scripts written without spaces end a sentence at their full stop, ! or ? whether or not a space follows.
_CJK_ENDS = "\u3002\uff01\uff1f\uff61"  # ideographic full stop, fullwidth ! and ?, halfwidth full stop
# Quotes and brackets that close a sentence belong to it: `He said "Stop." Then` ends after the quote.
# Both sets: straight, curly, angle and CJK corner quotes; round, square, curly and fullwidth brackets.
_CLOSERS = "\"'\u201d\u2019)]}\u00bb\u300d\u300f\uff09"
_OPENERS = "\"'\u201c\u2018([{\u00ab\u300c\u300e\uff08"
_CLOSERS_CLASS = "[" + re.escape(_CLOSERS) + "]*"

# A candidate end: CJK terminators anywhere; Latin ones (. ! ? …) only before a space or the end,
# which already rules out decimals ("3.14", "$2.5 million") and inner dots ("U.S", "e.g").
_TERMINATOR_RE = re.compile(f"[{_CJK_ENDS}]+{_CLOSERS_CLASS}|[.!?\u2026]+{_CLOSERS_CLASS}(?=\\s|$)")
_NEXT_WORD_RE = re.compile(r"\s*[" + re.escape(_OPENERS) + r"]*(\w+)")
_PREVIOUS_WORD_RE = re.compile(r"\S+$")
_LONGEST_ABBREVIATION = 12
# "U.S", "e.g", "a.m", "J.R.R": single letters joined by dots (the final dot is the terminator).
_DOTTED_RE = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Abbreviations that are (nearly) never the last word of a sentence: a name or example follows.
_NEVER_FINAL = _word_set("mr mrs ms dr prof rev hon gen col capt lt sgt sen rep gov mt ft e.g i.e cf vs viz approx")
# These end a sentence sometimes ("... pens, etc. Then we left.") and sometimes not ("U.S. Senate").
_AMBIGUOUS = _word_set("etc inc ltd co corp jr sr st al ph.d")
# "No. 5", "Fig. 2": a number follows, so the sentence goes on.
_BEFORE_NUMBER = _word_set("no nos fig figs vol p pp ch sec art eq")
# After an ambiguous abbreviation, only a typical first word of a sentence starts a new one.
_SENTENCE_STARTERS = _word_set(
    "a an the this that these those it its he she they we i you there here but and so then however in "
    "on at for if when after before our my his her their what why how who as also yet still"
)


def split_sentences(text: str) -> list[str]:
    """Split `text` into sentences, each with its whitespace collapsed to single spaces."""
    return list(_iter_sentences(text))


def _iter_sentences(text: str) -> Iterator[str]:
    for block in _iter_blocks(text):
        yield from _split_block(block)


def _iter_blocks(text: str) -> Iterator[str]:
    """Yield the lines of `text`: a line break ends a sentence (titles, list items, paragraphs).

    A line that starts in lower case continues the line before: hard-wrapped prose is one block.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if lines and (not line or not line[0].islower()):
            yield " ".join(lines)
            lines = []
        if line:
            lines.append(line)
    if lines:
        yield " ".join(lines)


def _split_block(block: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _TERMINATOR_RE.finditer(block):
        if _ends_sentence(block, match):
            pieces.append(block[start : match.end()])
            start = match.end()
    pieces.append(block[start:])
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]


def _ends_sentence(block: str, match: re.Match[str]) -> bool:
    punctuation = match.group().rstrip(_CLOSERS)
    if punctuation[-1] in _CJK_ENDS:
        return True
    following = _NEXT_WORD_RE.match(block, match.end())
    if following is None:  # end of the block, or a symbol or emoji comes next
        return True
    next_word = following.group(1)
    if next_word[0].islower():  # "etc. and more", "Wait... what?", '"Stop!" he said.'
        return False
    if punctuation != ".":  # "?", "!", "?!", and ellipses
        return True
    return _period_ends_sentence(_previous_word(block, match.start()), next_word)


def _previous_word(block: str, end: int) -> str:
    # Look back a few characters only: longer words are no abbreviations, and this keeps splitting linear.
    found = _PREVIOUS_WORD_RE.search(block, max(0, end - _LONGEST_ABBREVIATION), end)
    return found.group().lstrip(_OPENERS) if found else ""


def _period_ends_sentence(word: str, next_word: str) -> bool:
    """Whether "`word`. `next_word`" is a sentence break, `next_word` being capitalized or a number."""
    lowered = word.lower()
    if lowered in _NEVER_FINAL:
        return False
    if len(word) == 1 and word.isupper():  # an initial: "J. Smith"
        return False
    if lowered in _BEFORE_NUMBER and next_word[0].isdigit():
        return False
    if lowered in _AMBIGUOUS or _DOTTED_RE.fullmatch(lowered):
        return next_word.lower() in _SENTENCE_STARTERS
    return True


# ---------------------------------------------------------------- TextRank

_WORD_RE = re.compile(r"[^\W_]+")
# Runs of scripts written without spaces (Thai, Lao, Myanmar, Khmer, kana, CJK ideographs): one "word"
# would be a whole clause, so they are compared by character bigrams instead.
_NO_SPACE_RUN_RE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)
# Function words overlap between any two English sentences and would drown the content words.
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
    if not tokens:
        # Emoji or symbols only: their characters are all there is to compare.
        tokens = _bigrams("".join(sentence.split()))
    return tokens


def _transition_rows(token_lists: list[list[str]]) -> list[list[float]]:
    """Row i holds, for each sentence j, the share of j's vote that goes to i.

    Similarity is TextRank's: shared words / (log |Si| + log |Sj|), with |S| the number of tokens.
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
    totals = [sum(row) for row in weights]
    # The graph is undirected, so the weight from j to i is weights[i][j].
    return [[w / t if t else 0.0 for w, t in zip(row, totals, strict=True)] for row in weights]


def _textrank(rows: list[list[float]]) -> list[float]:
    """Power iteration of PageRank's formula, as in the TextRank paper, until scores settle."""
    scores = [1.0] * len(rows)
    for _ in range(MAX_ITERATIONS):
        new = [(1 - DAMPING) + DAMPING * sum(map(mul, row, scores)) for row in rows]
        settled = max(abs(a - b) for a, b in zip(new, scores, strict=True)) < TOLERANCE
        scores = new
        if settled:
            break
    return scores


# ---------------------------------------------------------------- summary


def summarize_text(
    text: str, max_chars: int = DEFAULT_MAX_CHARS, max_words: int | None = None, form: str | None = None
) -> str:
    """The text's most central sentences, in document order, within about a quarter of its length.

    At least one sentence is kept; nothing longer than `max_chars` (or `max_words` words) is
    returned. Text of one or two sentences comes back as is (stripped) when it fits. `form`
    "bullets" puts each sentence on a line of its own starting with "- "; "paragraph" joins
    them with spaces; None keeps the text's own line breaks.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    stripped = text.strip()
    sentences = list(islice(_iter_sentences(stripped), MAX_SENTENCES))
    if not sentences:
        return ""
    words = max_words or len(stripped)  # a text has fewer words than characters
    if form is None and len(sentences) <= 2 and len(stripped) <= max_chars and _words(stripped) <= words:
        return stripped
    scores = _textrank(_transition_rows([_tokens(sentence) for sentence in sentences]))
    # Rounding lets scores equal up to float noise tie, and ties go to the earlier sentence.
    ranked = sorted(range(len(sentences)), key=lambda i: (-round(scores[i], 9), i))
    top = sentences[ranked[0]]
    if len(top) > max_chars or _words(top) > words:
        return _format([_truncate(_first_words(top, words), max_chars)], form)
    budget = min(max_chars, max(int(len(stripped) * DEFAULT_RATIO), len(top)))
    return _format([sentences[i] for i in _fill(ranked, sentences, budget, words)], form)


def _fill(ranked: list[int], sentences: list[str], budget: int, max_words: int) -> list[int]:
    """Take sentences best first while they fit the budgets; return their indexes in document order."""
    chosen: list[int] = []
    used, words = -1, 0  # the first sentence needs no separator
    for index in ranked:
        cost, count = len(sentences[index]) + 1, _words(sentences[index])
        if used + cost <= budget and words + count <= max_words:
            chosen.append(index)
            used += cost
            words += count
    return sorted(chosen)


def _words(text: str) -> int:
    return len(text.split())


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
    end = sentence.rstrip(_CLOSERS)[-1:]
    if end and end in _CJK_ENDS:
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
