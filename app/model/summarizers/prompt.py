"""The versioned prompt template: what the model is told, for each set of options.

Bump PROMPT_VERSION with any change to the wording: it is part of the result cache's
key, so summaries written under an older prompt are not served as answers to the new one.
"""

from __future__ import annotations

from typing import Final

from app.options import Options

PROMPT_VERSION: Final = "v2"

_BASE = (
    "You summarize texts. Write a faithful, concise summary of the text the user sends. "
    "Use only facts stated in the text: add no facts, opinions or interpretations that are not in it. "
    "Reply with the summary only."
)
_FORMATS: Final = {
    "paragraph": "Write the summary as a single paragraph of prose.",
    "bullets": "Write the summary as a bulleted list: one point per line, each line starting with '- '.",
}


def system_instruction(options: Options) -> str:
    """The system instruction for a call with `options`; the text itself is the user turn."""
    parts = [_BASE]
    if options.language is None:
        parts.append("Write it in the same language as the text.")
    else:
        parts.append(f"Write it in the language with the BCP 47 tag '{options.language}'.")
    if options.max_words is not None:
        parts.append(f"Use at most {options.max_words} words.")
    if options.format is not None:
        parts.append(_FORMATS[options.format])
    return " ".join(parts)
