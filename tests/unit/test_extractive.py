"""The extractive summarizer: sentence splitting, TextRank selection, and the async wrapper."""

from __future__ import annotations

import asyncio
import random

import pytest

from app.model.summarizers.base import SummarizerError, no_emit
from app.model.summarizers.extractive import ExtractiveSummarizer, split_sentences, summarize_text
from app.options import NO_OPTIONS, Options

SPLIT_CASES = [
    ("Dr. Smith arrived. He was late.", ["Dr. Smith arrived.", "He was late."]),
    (
        "Mr. and Mrs. Jones left early. They were tired.",
        ["Mr. and Mrs. Jones left early.", "They were tired."],
    ),
    (
        "Bring fruit, e.g. apples or pears. Avoid nuts, i.e. Brazil nuts. Thanks.",
        ["Bring fruit, e.g. apples or pears.", "Avoid nuts, i.e. Brazil nuts.", "Thanks."],
    ),
    (
        "The U.S. economy grew. The U.S. Senate voted today. It passed.",
        ["The U.S. economy grew.", "The U.S. Senate voted today.", "It passed."],
    ),
    (
        "We bought pens, paper, etc. for the office. We bought ink, etc. Then we left.",
        ["We bought pens, paper, etc. for the office.", "We bought ink, etc.", "Then we left."],
    ),
    ("J. Smith wrote the report. It was long.", ["J. Smith wrote the report.", "It was long."]),
    (
        "Pi is about 3.14 today. The deal was worth $2.5 million. Nobody complained.",
        ["Pi is about 3.14 today.", "The deal was worth $2.5 million.", "Nobody complained."],
    ),
    (
        "Meeting at 5 p.m. The room is booked. See Fig. 2 for details.",
        ["Meeting at 5 p.m.", "The room is booked.", "See Fig. 2 for details."],
    ),
    (
        "I waited... Then he came. Wait\u2026 what happened?",
        ["I waited...", "Then he came.", "Wait\u2026 what happened?"],
    ),
    ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
    ('"Stop!" he shouted. Nobody moved.', ['"Stop!" he shouted.', "Nobody moved."]),
    ("(This is an aside.) The main point follows.", ["(This is an aside.)", "The main point follows."]),
    ("Really? Yes! Absolutely. What?! No way.", ["Really?", "Yes!", "Absolutely.", "What?!", "No way."]),
    (
        "Heading\nBody text starts here.\n\nThis sentence is wrapped\nacross two lines. Next one.",
        ["Heading", "Body text starts here.", "This sentence is wrapped across two lines.", "Next one."],
    ),
    # Fullwidth ! and ? are the point of this case.
    ("今天天气很好。我们去公园吧！你来吗？", ["今天天气很好。", "我们去公园吧！", "你来吗？"]),  # noqa: RUF001
    ("これはペンです。あれは本です。", ["これはペンです。", "あれは本です。"]),
    ("", []),
    ("  \n\n  ", []),
]


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def _long_text(chars: int, seed: int = 0) -> str:
    """Varied English-like sentences, deterministic for a given seed."""
    rng = random.Random(seed)
    vocabulary = [
        *("queue", "worker", "job", "redis", "lease", "retry", "summary", "model", "text", "result"),
        *("broker", "stream", "timeout", "backoff", "latency", "throughput", "memory", "network"),
        *("request", "response", "error", "client", "server"),
    ]
    sentences: list[str] = []
    size = 0
    while size < chars:
        words = [rng.choice(vocabulary) for _ in range(rng.randint(6, 18))]
        sentence = " ".join(words).capitalize() + "."
        sentences.append(sentence)
        size += len(sentence) + 1
    return " ".join(sentences)


def _in_document_order(summary: str, text: str) -> bool:
    """Whether every sentence of `summary` is a sentence of `text`, in the text's order."""
    source = split_sentences(text)
    position = 0
    for sentence in split_sentences(summary):
        try:
            position = source.index(sentence, position) + 1
        except ValueError:
            return False
    return True


ARTICLE = (
    "The city council met on Tuesday to discuss the new budget. "
    "Solar panels will be installed on every school roof, the council decided. "
    "The mayor said the plan would cut energy bills for schools by a third. "
    "Residents asked whether the budget leaves room for road repairs. "
    "A local bakery celebrated its fiftieth anniversary with free bread. "
    "The council will vote on the final budget next month. "
    "Teachers welcomed the solar plan and hope to use it in science lessons. "
    "Rain is expected for most of the weekend."
)


def test_summary_is_sentences_of_the_text_in_order() -> None:
    summary = summarize_text(ARTICLE)
    assert summary
    assert _in_document_order(summary, ARTICLE)


def test_summary_of_a_long_text_is_shorter_and_within_max_chars() -> None:
    text = _long_text(5_000)
    summary = summarize_text(text)
    assert 0 < len(summary) < len(text)
    assert len(summary) <= 600
    assert _in_document_order(summary, text)
    assert len(summarize_text(text, max_chars=200)) <= 200


def test_summary_is_deterministic() -> None:
    text = _long_text(8_000, seed=3)
    assert summarize_text(text) == summarize_text(text)
    assert summarize_text(ARTICLE) == summarize_text(ARTICLE)


def test_most_central_sentence_is_kept() -> None:
    central = "Solar panels convert sunlight into electricity for homes and batteries."
    text = " ".join(
        [
            "Large solar farms cover whole fields.",
            "Sunlight varies with the seasons.",
            central,
            "Electricity prices rose sharply this year.",
            "Many homes need better insulation.",
            "Batteries store energy overnight.",
            "Panels are cleaned twice a year.",
        ]
    )
    assert central in split_sentences(summarize_text(text))


def test_short_text_comes_back_stripped() -> None:
    assert summarize_text("  Just one sentence here.  \n") == "Just one sentence here."
    assert summarize_text("First one. Second one.") == "First one. Second one."


def test_overlong_sentence_is_cut_on_a_word_boundary() -> None:
    sentence = " ".join(f"word{i}" for i in range(300)) + "."
    summary = summarize_text(sentence, max_chars=100)
    assert len(summary) <= 100
    assert summary.endswith("\u2026")
    kept = summary.removesuffix("\u2026")
    assert sentence.startswith(kept)
    assert sentence[len(kept)] == " "


def test_cjk_text_gives_a_summary() -> None:
    text = (
        "今天的会议讨论了新的预算。太阳能电池板将安装在每所学校的屋顶上。"
        "市长说这个计划会让学校的电费减少三分之一。居民们询问预算是否包括修路。"
        "一家面包店庆祝了五十周年。老师们欢迎太阳能计划。周末大部分时间会下雨。"
    )
    summary = summarize_text(text)
    assert summary
    assert len(summary) < len(text)
    assert _in_document_order(summary, text)


def test_emoji_text_gives_a_summary() -> None:
    text = "\n".join(["🎉🎉 🚀🚀", "🌟✨ 🎉🎉", "😀 😀 😀", "🚀🌟 ✨✨", "🍕🍕🍕", "🎉🚀🌟✨"])
    summary = summarize_text(text)
    assert summary
    assert _in_document_order(summary, text)


def test_a_100k_char_text_completes() -> None:
    text = _long_text(100_000, seed=7)
    summary = summarize_text(text)
    assert 0 < len(summary) <= 600


async def test_summarizer_returns_a_summary() -> None:
    summarizer = ExtractiveSummarizer()
    assert summarizer.name == "extractive"
    pieces: list[str] = []

    async def collect(delta: str) -> None:
        pieces.append(delta)

    summary = await summarizer.summarize(ARTICLE, NO_OPTIONS, collect)
    assert summary.model == "extractive-textrank"
    assert summary.text == summarize_text(ARTICLE)
    assert pieces == [summary.text]  # streamed as one piece
    assert summary.unhonoured == ()
    await summarizer.aclose()


async def test_max_words_and_bullets_are_honoured_and_language_is_reported_as_not() -> None:
    options = Options(max_words=25, format="bullets", language="fr")
    summary = await ExtractiveSummarizer().summarize(ARTICLE, options, no_emit)
    lines = summary.text.split("\n")
    assert all(line.startswith("- ") for line in lines)
    assert len(summary.text.replace("- ", "").split()) <= 25
    assert summary.unhonoured == ("language",)


def test_max_words_cuts_a_single_long_sentence_at_a_word() -> None:
    text = " ".join(f"word{i}" for i in range(40)) + "."
    summary = summarize_text(text, max_words=10)
    assert summary == " ".join(f"word{i}" for i in range(10)) + "\u2026"


def test_paragraph_joins_lines_with_spaces() -> None:
    text = "Title line\nThe first sentence is here. The second one follows.\nAnother line of text ends it."
    assert "\n" not in summarize_text(text, form="paragraph")


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
async def test_blank_text_is_a_permanent_error(text: str) -> None:
    with pytest.raises(SummarizerError, match="text is empty") as raised:
        await ExtractiveSummarizer().summarize(text, NO_OPTIONS, no_emit)
    assert raised.value.transient is False


async def test_summarize_does_not_block_the_event_loop() -> None:
    # If summarize ran TextRank on the loop, the task would finish in its first step, before this
    # coroutine got the loop back; off the loop, this coroutine keeps running while the work is done.
    task = asyncio.create_task(ExtractiveSummarizer().summarize(_long_text(50_000), NO_OPTIONS, no_emit))
    turns = 0
    while not task.done():
        turns += 1
        await asyncio.sleep(0)
    assert turns > 1
    assert (await task).text


# ---------------------------------------------------------------- issue 18: a summary worth reading

REDIS = (
    "Redis is an in-memory data store used as a database, cache and message broker. "
    "It supports lists, sets, hashes and streams. Many job queues are built on its lists."
)

BRIDGE = (
    "The city opened a new bridge over the river on Monday after three years of building work. "
    "It carries four lanes of traffic, a tram line and a cycle path from the station to the old town. "
    "Traffic on the old bridge fell by half within hours, the city said. "
    "Cyclists said the cycle path saves them ten minutes on the way to the station. "
    "The tram line across the river will open in the spring, once the last tracks are laid. "
    "A festival with music and food on the bridge drew thousands of people on Sunday. "
    "Engineers will inspect the bridge, its traffic lanes and its tram line every year. "
    "The bridge cost less than planned, the mayor said, and was finished two months early. "
    "Shops in the old town hope the new bridge will bring them more customers from the station. "
    "Some residents had asked for a quieter design with fewer traffic lanes and more trees. "
    "The old bridge will close for repairs next year, when its traffic moves to the new one."
)

PRONOUNS = ("it", "its", "they", "their", "he", "his", "she", "her", "this", "these", "those", "that")


def _opens_with_pronoun(sentence: str) -> bool:
    return sentence.split()[0].strip("\"'").lower() in PRONOUNS


def test_the_first_sentence_that_says_what_the_text_is_about_opens_the_summary() -> None:
    assert summarize_text(REDIS).startswith("Redis is an in-memory data store")


@pytest.mark.parametrize(
    "text",
    [
        REDIS,
        BRIDGE,
        # The antecedent is not in the text at all: the summary opens with another sentence.
        "They arrived at dawn, long before the gates opened. " + ARTICLE,
        "It was scrapped this week at the eleventh hour. " + BRIDGE,
    ],
)
def test_summary_never_opens_with_a_pronoun_whose_antecedent_is_left_out(text: str) -> None:
    for max_chars, max_words in ((600, None), (600, 20), (120, None)):
        summary = summarize_text(text, max_chars=max_chars, max_words=max_words)
        assert not _opens_with_pronoun(split_sentences(summary)[0]), (max_chars, max_words, summary)


def test_a_pronoun_sentence_comes_with_the_sentence_it_refers_to() -> None:
    summary = split_sentences(summarize_text(BRIDGE))
    text = split_sentences(BRIDGE)
    assert text[1] in summary  # "It carries four lanes ...": the most central sentence of the text
    for position, sentence in enumerate(summary):
        if _opens_with_pronoun(sentence):
            assert position > 0
            assert summary[position - 1] == text[text.index(sentence) - 1]


def test_a_sentence_that_repeats_a_chosen_one_is_left_out() -> None:
    lead = "Dressed in a Superman shirt, five-year-old Youssif held his sister's hand on Friday at the hospital."
    repeat = "Youssif held his sister's hand on Friday."  # a photo caption in the middle of the story
    text = " ".join(
        [
            lead,
            repeat,
            "Nearby, his parents talked about the future and their hope for the recovery of their boy from his burns.",
            "A burn centre in the United States has offered to treat the boy for free, and the family has accepted.",
            "Thousands of people have given money for the treatment since the story of the boy was first told.",
            "The father said the family is thankful for every gift, large or small, from people they have never met.",
            "Doctors say the treatment of the burns will take at least a year, with several operations.",
            "The family will travel to the United States next month, once their visas are ready.",
        ]
    )
    summary = split_sentences(summarize_text(text))
    assert lead in summary
    assert repeat not in summary  # it would fit, and it is the next sentence: left out for saying nothing new


def test_datelines_bylines_and_page_furniture_are_not_quoted() -> None:
    text = "\n".join(
        [
            "WASHINGTON (CNN) -- " + REDIS.split(". ")[0] + ".",
            "Media playback is not supported on this device",
            "By Jane Doe",
            "Share this with",
            "Email",
            *split_sentences(BRIDGE),
            "E-mail to a friend",
        ]
    )
    summary = summarize_text(text, max_chars=600)
    assert summary.startswith("Redis is an in-memory data store")
    for furniture in ("(CNN)", "Media playback", "Jane Doe", "Share this", "Email", "E-mail"):
        assert furniture not in summary


def test_a_default_summary_has_at_most_three_sentences_and_max_words_may_ask_for_more() -> None:
    text = _long_text(5_000, seed=1)
    assert len(split_sentences(summarize_text(text))) <= 3
    assert len(split_sentences(summarize_text(text, max_chars=1_000, max_words=150))) > 3


def test_texts_in_other_languages_still_get_a_leading_summary() -> None:
    text = (
        "Der Stadtrat hat am Dienstag den neuen Haushalt beraten. Auf jedem Schuldach sollen Solarzellen "
        "installiert werden. Die Bürgermeisterin sagte, der Plan senke die Stromkosten der Schulen um ein "
        "Drittel. Anwohner fragten, ob im Haushalt noch Geld für Straßen bleibt. Eine Bäckerei feierte ihr "
        "fünfzigjähriges Bestehen mit kostenlosem Brot. Der Rat stimmt nächsten Monat über den Haushalt ab."
    )
    summary = summarize_text(text)
    assert summary.startswith("Der Stadtrat hat am Dienstag den neuen Haushalt beraten.")
    assert _in_document_order(summary, text)
