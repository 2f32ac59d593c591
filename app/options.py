"""Summary options a client may ask for: validated once, carried in the message, part of the cache key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import langcodes

MIN_WORDS: Final = 10
MAX_WORDS: Final = 1000
FORMATS: Final = ("paragraph", "bullets")
FIELDS: Final = ("max_words", "format", "language", "max_output_tokens")
# A job's own cap on the model's output tokens (what it may cost); MAX_OUTPUT_TOKENS caps it again.
MIN_OUTPUT_TOKENS: Final = 16
MAX_OUTPUT_TOKENS: Final = 65_536


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
    max_output_tokens: int | None = None  # the model writes at most this many tokens (a cost cap)

    def to_dict(self) -> dict[str, object]:
        """Only the options asked for: the wire form, and what the cache key hashes."""
        return {name: value for name in FIELDS if (value := getattr(self, name)) is not None}

    def __bool__(self) -> bool:
        return any(getattr(self, name) is not None for name in FIELDS)


NO_OPTIONS: Final = Options()


def parse_options(data: dict[str, object]) -> Options:
    """The options among `data`'s fields (others are ignored here); raises InvalidOption."""
    fmt, language = data.get("format"), data.get("language")
    max_words = _integer(data, "max_words", MIN_WORDS, MAX_WORDS)
    max_output_tokens = _integer(data, "max_output_tokens", MIN_OUTPUT_TOKENS, MAX_OUTPUT_TOKENS)
    if fmt is not None and fmt not in FORMATS:
        raise InvalidOption("format", f"'format' must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if language is not None:
        language = _language_tag(language)
    if max_words is None and fmt is None and language is None and max_output_tokens is None:
        return NO_OPTIONS
    return Options(max_words, fmt, language, max_output_tokens)  # type: ignore[arg-type]


def _integer(data: dict[str, object], name: str, least: int, most: int) -> int | None:
    value = data.get(name)
    if isinstance(value, float) and value.is_integer():  # 50.0 is an integer in JSON Schema too
        value = int(value)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most):
        raise InvalidOption(name, f"'{name}' must be an integer from {least} to {most}, not {value!r}")
    return value


def _language_tag(value: object) -> str:
    detail = f"'language' must be a BCP 47 language tag such as 'en', 'pt-BR' or 'zh-Hant', not {value!r}"
    if not isinstance(value, str) or len(value) > 64 or not langcodes.tag_is_valid(value):
        raise InvalidOption("language", detail)
    return langcodes.standardize_tag(value)
