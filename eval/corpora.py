"""The evaluation texts in eval/data, each with its human reference summary (sources: eval/README.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True, slots=True)
class Document:
    """One text to summarize and the summary a person wrote for it."""

    id: str
    text: str
    reference: str


@dataclass(frozen=True, slots=True)
class Corpus:
    name: str
    documents: list[Document]


def cnn_stories(folder: Path) -> list[Document]:
    """CNN stories in the .story format: the article, then each highlight after an `@highlight` line."""
    documents = []
    for path in sorted(folder.glob("*.story")):
        article, *highlights = path.read_text(encoding="utf-8").split("@highlight")
        # One highlight a line: rouge-score's ROUGE-L ignores line breaks, ROUGE-Lsum would split on them.
        reference = "\n".join(line.strip() for line in highlights if line.strip())
        documents.append(Document(path.stem, article.strip(), reference))
    return documents


def xsum_jsonl(path: Path) -> list[Document]:
    """XSum in the JSON-lines form of transformers' fixture: {"document", "summary"} a line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [Document(f"{path.stem}-{n}", row["document"].strip(), row["summary"].strip()) for n, row in enumerate(rows)]


_XSUM_DATA_RE = re.compile(r"\[XSUM\]INTRODUCTION\[XSUM\]\n(.*?)\n\s*\[XSUM\]RESTBODY\[XSUM\]\n(.*)", re.S)
# XSum's summary is the article's introductory sentence, cut from it; a rest of one paragraph is no article.
_MIN_PARAGRAPHS = 3
# The BBC's 2017 page layout puts its share buttons, one a line, before the article; XSum's own release (made
# from earlier pages) has none of them. Left in, they would be every LEAD baseline's first sentences.
_SHARE_WIDGET_RE = re.compile(
    r"\AShare this with\n(?:.*\n){0,12}?Copy this link\n(?:These are external links and will open in a new window\n)?"
)


def xsum_extracts(folder: Path) -> list[Document]:
    """XSum's own extraction format (.data): the introduction is the reference, the rest body the text."""
    documents = []
    for path in sorted(folder.glob("*.data")):
        found = _XSUM_DATA_RE.search(path.read_text(encoding="utf-8"))
        if found is None:
            continue
        introduction = found.group(1).strip()
        body = _SHARE_WIDGET_RE.sub("", found.group(2).strip() + "\n").strip()
        if introduction and sum(1 for line in body.splitlines() if line.strip()) >= _MIN_PARAGRAPHS:
            documents.append(Document(path.stem, body, introduction))
    return documents


LOADERS: list[tuple[str, Callable[[Path], list[Document]], str]] = [
    ("CNN (allennlp-models fixtures)", cnn_stories, "cnn-allennlp"),
    ("XSum (transformers fixture)", xsum_jsonl, "xsum-transformers/sample.json"),
    ("XSum (EdinburghNLP extracts)", xsum_extracts, "xsum-edinburgh"),
]


def load_corpora(data: Path = DATA) -> list[Corpus]:
    """Every corpus in `data`, in a fixed order, its documents sorted by id: the same run every time."""
    return [Corpus(name, load(data / where)) for name, load, where in LOADERS]
