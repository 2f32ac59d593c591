"""What a summary should not quote: datelines, page furniture, bylines, fragments; and sentences that lean back."""

from __future__ import annotations

import re

from app.model.summarizers.extractive.sentences import OPENERS, count_words, word_set
from app.model.summarizers.extractive.textrank import NO_SPACE_RUN_RE

# A news agency's dateline at the start of a story: "WASHINGTON (CNN) -- As he awaits", "(CNN)For the first
# time", "LONDON, England (Reuters) - The", "PARIS -- The". Its sentence is quoted without it.
_DATELINE_RE = re.compile(
    r"(?:[A-Z][\w.'-]*(?:,? [A-Z][\w.'-]*){0,3} )?\((?:CNN|AP|AFP|Reuters|UPI|PA|dpa)\)\s*(?:--|[\u2013\u2014-])?\s*"
    r"|[A-Z]{2,}(?:,? [A-Z][\w.'-]*){0,3} (?:--|\u2014) "
)
# Page furniture that text copied from a news site carries along; none of it says what the text is about.
_BOILERPLATE_RE = re.compile(
    r"media playback is (?:not supported|unsupported) on (?:this|your) device|e-?mail to a friend|share this with"
    r"|copy this link|these are external links|click here\b|scroll down for video|(?:image|video) (?:copyright|caption)"
    r"|\d{1,2} \w+ \d{4} last updated at|last updated at \d|read more\b|see more stories|find all the latest"
    r"|follow (?:us|@?\w+) on (?:twitter|facebook|instagram)",
    re.IGNORECASE,
)
_BYLINE_RE = re.compile(r"By(?:,? (?:and )?[A-Z][\w.'-]*){1,6}\.?")
# Shorter sentences ("Navtej Johal reports.", "No.", a caption's "12%") rarely carry a text's point.
MIN_WORDS = 4
# A sentence that opens with one of these leans on the one before it: "It supports lists" says nothing alone.
_ANAPHORA = word_set("it its they them their theirs he him his she her hers this these those that such")
_FIRST_WORD_RE = re.compile(r"[\W_]*([^\W_]+)")


def without_dateline(sentence: str) -> str:
    found = _DATELINE_RE.match(sentence)
    if found is None:
        return sentence
    rest = sentence[found.end() :].lstrip(OPENERS)
    # What follows a dateline starts a sentence; anything else was no dateline ("US (AP) polls show").
    return sentence[found.end() :] if rest[:1].isupper() else sentence


def is_quotable(sentence: str) -> bool:
    """Whether `sentence` may be part of a summary: neither page furniture, a byline, nor a fragment."""
    if _BOILERPLATE_RE.match(sentence.lstrip(OPENERS)) or _BYLINE_RE.fullmatch(sentence):
        return False
    # Scripts written without spaces have no words to count.
    return NO_SPACE_RUN_RE.search(sentence) is not None or count_words(sentence) >= MIN_WORDS


def leans_back(sentence: str) -> bool:
    found = _FIRST_WORD_RE.match(sentence)
    return found is not None and found.group(1).lower() in _ANAPHORA
