"""`make eval`: ROUGE F1 of the app's extractive summarizer beside LEAD-1, LEAD-3 and the former TextRank.

Prints, per corpus: the number of texts, mean ROUGE-1/2/L F1 (x100) and mean summary length of each system,
and ours minus LEAD-3 with a 95% interval (paired, normal approximation); then how many summaries open with
an unresolved pronoun, and the mean time of one summary of a 2 KB text. Offline: the data is in eval/data.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from rouge_score import rouge_scorer

from app.model.summarizers.base import no_emit
from app.model.summarizers.extractive import ExtractiveSummarizer, split_sentences, summarize_text
from app.options import NO_OPTIONS
from eval.baselines import lead, textrank
from eval.corpora import Corpus, load_corpora

METRICS = ("rouge1", "rouge2", "rougeL")
OURS = "ours"
SYSTEMS: dict[str, Callable[[str], str]] = {
    "LEAD-1": lambda text: lead(text, 1),
    "LEAD-3": lambda text: lead(text, 3),
    "TextRank (old)": textrank,
}
TIMED_CHARS = 2048


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A sentence opening with one of these points back to something the summary does not say.
PRONOUNS = _word_set("it its it's they them their theirs he him his she her hers this these those that such")
_FIRST_WORD_RE = re.compile(r"[\W_]*([\w']+)")


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-document ROUGE F1 (x100) for each metric, and summary lengths in words."""

    f1: dict[str, list[float]]
    words: list[int]


async def _ours(texts: list[str]) -> list[str]:
    # As the worker calls it: default options, through the async wrapper (which runs it in a thread).
    summarizer = ExtractiveSummarizer()
    return [(await summarizer.summarize(text, NO_OPTIONS, no_emit)).text for text in texts]


def summaries(corpus: Corpus) -> dict[str, list[str]]:
    """Each system's summary of each document of `corpus`, ours first."""
    texts = [document.text for document in corpus.documents]
    made = {OURS: asyncio.run(_ours(texts))}
    made.update({name: [system(text) for text in texts] for name, system in SYSTEMS.items()})
    return made


def score(scorer: rouge_scorer.RougeScorer, references: list[str], candidates: list[str]) -> Scores:
    f1: dict[str, list[float]] = {metric: [] for metric in METRICS}
    for reference, candidate in zip(references, candidates, strict=True):
        result = scorer.score(reference, candidate)
        for metric in METRICS:
            f1[metric].append(100 * result[metric].fmeasure)
    return Scores(f1, [len(candidate.split()) for candidate in candidates])


def opens_with_pronoun(summary: str) -> bool:
    """Whether the summary's first sentence starts with a pronoun (its antecedent is nowhere before it)."""
    sentences = split_sentences(summary.removeprefix("- "))
    found = _FIRST_WORD_RE.match(sentences[0]) if sentences else None
    return found is not None and found.group(1).lower() in PRONOUNS


def _interval(ours: list[float], baseline: list[float]) -> str:
    differences = [a - b for a, b in zip(ours, baseline, strict=True)]
    mean = statistics.fmean(differences)
    half = 1.96 * statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else 0.0
    return f"{mean:+.2f} ± {half:.2f}"


def print_corpus(corpus: Corpus, scored: dict[str, Scores]) -> None:
    print(f"\n### {corpus.name}: {len(corpus.documents)} texts\n")
    print("| system | ROUGE-1 F1 | ROUGE-2 F1 | ROUGE-L F1 | words |")
    print("|---|---:|---:|---:|---:|")
    for name, scores in scored.items():
        means = " | ".join(f"{statistics.fmean(scores.f1[metric]):.2f}" for metric in METRICS)
        print(f"| {name} | {means} | {statistics.fmean(scores.words):.0f} |")
    ours, lead3 = scored[OURS], scored["LEAD-3"]
    deltas = " | ".join(_interval(ours.f1[metric], lead3.f1[metric]) for metric in METRICS)
    print(f"| ours - LEAD-3 (95%) | {deltas} | |")


def _two_kb_texts(corpora: list[Corpus]) -> list[str]:
    """The first 2 KB of every text that long, cut after the last whole sentence or line."""
    texts = []
    for corpus in corpora:
        for document in corpus.documents:
            if len(document.text) >= TIMED_CHARS:
                head = document.text[:TIMED_CHARS]
                end = max(head.rfind(". "), head.rfind("\n"))
                texts.append(head[: end + 1] if end > 0 else head)
    return texts


def mean_ms(summarize: Callable[[str], str], texts: list[str], rounds: int) -> float:
    """Mean wall time of one call of `summarize` over `texts`, in milliseconds."""
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            summarize(text)
    return 1000 * (time.perf_counter() - started) / (rounds * len(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds over the 2 KB texts")
    args = parser.parse_args()
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    corpora = load_corpora()
    pronoun_rows = []
    for corpus in corpora:
        made = summaries(corpus)
        references = [document.reference for document in corpus.documents]
        print_corpus(corpus, {name: score(scorer, references, candidates) for name, candidates in made.items()})
        counts = {name: sum(map(opens_with_pronoun, made[name])) for name in (OURS, "TextRank (old)", "LEAD-3")}
        pronoun_rows.append((corpus, counts))
    print("\n### Summaries that open with an unresolved pronoun\n")
    print("| corpus | texts | ours | TextRank (old) | LEAD-3 |")
    print("|---|---:|---:|---:|---:|")
    for corpus, counts in pronoun_rows:
        print(f"| {corpus.name} | {len(corpus.documents)} | " + " | ".join(map(str, counts.values())) + " |")
    texts = _two_kb_texts(corpora)
    ours_ms, old_ms = mean_ms(summarize_text, texts, args.rounds), mean_ms(textrank, texts, args.rounds)
    print(f"\nMean time of one summary of a 2 KB text ({len(texts)} texts x {args.rounds} rounds, one thread):")
    print(f"ours {ours_ms:.2f} ms, TextRank (old) {old_ms:.2f} ms")


if __name__ == "__main__":
    main()
