"""Summary options a client may ask for: validated once, carried in the message, part of the cache key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import langcodes

MIN_WORDS: Final = 10
MAX_WORDS: Final = 1000
FORMATS: Final = ("paragraph", "bullets")
FIELDS: Final = ("max_words", "format", "language")


class InvalidOption(ValueError):
    """An option has a value no summary can be made with; the message names it and what is allowed."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name


@dataclass(frozen=True, slots=True)
class Options:
    """None means "not asked for": the summarizer's default."""

    max_words: int | None = None
    format: str | None = None
    language: str | None = None  # a well-formed, valid BCP 47 tag in its standard form

    def to_dict(self) -> dict[str, object]:
        """Only the options asked for: the wire form, and what the cache key hashes."""
        return {name: value for name in FIELDS if (value := getattr(self, name)) is not None}

    def __bool__(self) -> bool:
        return any(getattr(self, name) is not None for name in FIELDS)


NO_OPTIONS: Final = Options()


def parse_options(data: dict[str, object]) -> Options:
    """The options among `data`'s fields (others are ignored here); raises InvalidOption."""
    max_words, fmt, language = data.get("max_words"), data.get("format"), data.get("language")
    if isinstance(max_words, float) and max_words.is_integer():  # 50.0 is an integer in JSON Schema too
        max_words = int(max_words)
    if max_words is not None and (
        not isinstance(max_words, int) or isinstance(max_words, bool) or not MIN_WORDS <= max_words <= MAX_WORDS
    ):
        detail = f"'max_words' must be an integer from {MIN_WORDS} to {MAX_WORDS}, not {max_words!r}"
        raise InvalidOption("max_words", detail)
    if fmt is not None and fmt not in FORMATS:
        raise InvalidOption("format", f"'format' must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if language is not None:
        language = _language_tag(language)
    if max_words is None and fmt is None and language is None:
        return NO_OPTIONS
    return Options(max_words=max_words, format=fmt, language=language)  # type: ignore[arg-type]


def _language_tag(value: object) -> str:
    detail = f"'language' must be a BCP 47 language tag such as 'en', 'pt-BR' or 'zh-Hant', not {value!r}"
    if not isinstance(value, str) or len(value) > 64 or not langcodes.tag_is_valid(value):
        raise InvalidOption("language", detail)
    return langcodes.standardize_tag(value)
