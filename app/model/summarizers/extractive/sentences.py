"""Sentences of a text: where they end (abbreviations, quotes, scripts without spaces), and words."""

from __future__ import annotations

import re
from collections.abc import Iterator

# Scripts written without spaces end a sentence at their full stop, ! or ? whether or not a space follows.
CJK_ENDS = "\u3002\uff01\uff1f\uff61"  # ideographic full stop, fullwidth ! and ?, halfwidth full stop
# Quotes and brackets that close a sentence belong to it: `He said "Stop." Then` ends after the quote.
# Both sets: straight, curly, angle and CJK corner quotes; round, square, curly and fullwidth brackets.
CLOSERS = "\"'\u201d\u2019)]}\u00bb\u300d\u300f\uff09"
OPENERS = "\"'\u201c\u2018([{\u00ab\u300c\u300e\uff08"
_CLOSERS_CLASS = "[" + re.escape(CLOSERS) + "]*"

# A candidate end: CJK terminators anywhere; Latin ones (. ! ? …) only before a space or the end,
# which already rules out decimals ("3.14", "$2.5 million") and inner dots ("U.S", "e.g").
_TERMINATOR_RE = re.compile(f"[{CJK_ENDS}]+{_CLOSERS_CLASS}|[.!?\u2026]+{_CLOSERS_CLASS}(?=\\s|$)")
_NEXT_WORD_RE = re.compile(r"\s*[" + re.escape(OPENERS) + r"]*(\w+)")
_PREVIOUS_WORD_RE = re.compile(r"\S+$")
_LONGEST_ABBREVIATION = 12
# "U.S", "e.g", "a.m", "J.R.R": single letters joined by dots (the final dot is the terminator).
_DOTTED_RE = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")


def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Abbreviations that are (nearly) never the last word of a sentence: a name or example follows.
_NEVER_FINAL = word_set("mr mrs ms dr prof rev hon gen col capt lt sgt sen rep gov mt ft e.g i.e cf vs viz approx")
# These end a sentence sometimes ("... pens, etc. Then we left.") and sometimes not ("U.S. Senate").
_AMBIGUOUS = word_set("etc inc ltd co corp jr sr st al ph.d")
# "No. 5", "Fig. 2": a number follows, so the sentence goes on.
_BEFORE_NUMBER = word_set("no nos fig figs vol p pp ch sec art eq")
# After an ambiguous abbreviation, only a typical first word of a sentence starts a new one.
_SENTENCE_STARTERS = word_set(
    "a an the this that these those it its he she they we i you there here but and so then however in "
    "on at for if when after before our my his her their what why how who as also yet still"
)


def split_sentences(text: str) -> list[str]:
    """Split `text` into sentences, each with its whitespace collapsed to single spaces."""
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[str]:
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
    punctuation = match.group().rstrip(CLOSERS)
    if punctuation[-1] in CJK_ENDS:
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
    return found.group().lstrip(OPENERS) if found else ""


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


def count_words(text: str) -> int:
    return len(text.split())
