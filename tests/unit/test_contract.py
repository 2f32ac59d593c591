"""The contract: the wire codec (what producers in any language may push, and what becomes of it),
the Outcome a done job records and announces, and the reply codes the scripts share with Python."""

from __future__ import annotations

import orjson
import pytest

from app.options import Options
from app.queue import lua
from app.queue.contract import Keys, Priority
from app.queue.message import PoisonMessage, decode_message, new_message
from app.queue.record import RECORD_FIELDS, Outcome, Timing, decode_record
from app.queue.replies import Ended, Enqueued, Moved, Started


def test_every_key_of_a_queue_shares_its_hash_tag() -> None:
    keys = Keys("job_queue", "job_result")
    tagged = [keys.workers, keys.delayed, keys.dead, keys.job("x"), keys.processing("w"), keys.heartbeat("w")]
    tagged += [keys.totals, keys.stream("x"), keys.cache("d"), keys.cache_lock("d")]
    tagged += [keys.limit("m"), keys.cool_down("m"), keys.recent, keys.idempotency("default", "k")]
    tagged += [keys.idempotency("acme", "k"), keys.tenants, keys.tenant("acme"), keys.tenant_recent("acme")]
    tagged += [keys.rate("acme"), keys.spent("acme", "2026-11-29")]
    tagged += [keys.lane("high", "default"), keys.lane("low", "acme"), *keys.rings, keys.weights, keys.schedule]
    tagged += [keys.spent_cost("acme", "2026-11-29"), keys.listen("x")]
    assert all(key.startswith("{job_queue}:") for key in tagged)
    assert keys.idempotency("acme", "k") != keys.idempotency("default", "k"), "a key belongs to its tenant"
    assert keys.queue == "job_queue"  # the original design's name, which hashes to the same slot


def test_a_message_round_trips() -> None:
    message = new_message("hello")
    assert decode_message(message.encode()) == (message, False)
    assert b"options" not in message.encode()  # only when asked for
    assert b"priority" not in message.encode(), "normal is the default: a message stays as it was"
    urgent = new_message("now", tenant="acme", priority=Priority.HIGH, stream=True)
    assert decode_message(urgent.encode()) == (urgent, False)
    assert b"stream" not in new_message("t").encode()


def test_the_default_tenants_normal_lane_is_the_queue_list_itself() -> None:
    keys = Keys("job_queue", "job_result")
    assert keys.lane("normal", "default") == "job_queue", "where a foreign LPUSH lands"
    assert keys.lane("high", "default") == "{job_queue}:lane:high:default"
    assert keys.lane("normal", "acme") == keys.lane_prefix + "normal:acme"


def test_options_travel_in_the_message_in_standard_form() -> None:
    message = new_message("hello", Options(max_words=50, format="bullets", language="pt-BR"))
    assert orjson.loads(message.encode())["options"] == {"max_words": 50, "format": "bullets", "language": "pt-BR"}
    assert decode_message(message.encode()) == (message, False)
    foreign, _ = decode_message(b'{"text": "t", "options": {"language": "en_us"}}')
    assert foreign.options == Options(language="en-US")


def test_a_foreign_message_with_only_text_is_completed() -> None:
    message, completed = decode_message(b'{"text": "from PHP"}')
    assert completed
    assert message.text == "from PHP"
    assert len(message.id) == 32
    assert message.enqueued_at > 0


def test_a_message_carries_no_attempt_and_an_older_ones_attempt_is_ignored() -> None:
    # The record counts attempts; a message's bytes stay the same through retries.
    assert "attempt" not in orjson.loads(new_message("t").encode())
    message, completed = decode_message(b'{"id": "old-1", "text": "t", "attempt": -3, "enqueued_at": 1}')
    assert (message.id, message.text, completed) == ("old-1", "t", False)


def test_a_foreign_message_keeps_its_own_id() -> None:
    message, completed = decode_message(orjson.dumps({"id": "order-17", "text": "t", "enqueued_at": 5}))
    assert (message.id, message.enqueued_at, completed) == ("order-17", 5.0, False)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"  \n",
        b'""',
        b"\xff\xfe not UTF-8",
        b"{",
        b'{"text": "a",}',
        b'{"text": null}',
        b'{"text": ""}',
        b'{"id": 5, "text": "t"}',
        b'{"id": "' + b"x" * 200 + b'", "text": "t"}',
        b'{"text": "t", "options": []}',
        b'{"text": "t", "stream": "yes"}',
        b'{"text": "t", "options": {"max_words": 3}}',
        b'{"text": "t", "options": {"format": "poem"}}',
        b'{"text": "t", "options": {"language": "klingonese"}}',
    ],
)
def test_poison_is_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_message(raw)
    assert str(caught.value)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"Redis is a data store. It has lists.", "Redis is a data store. It has lists."),
        (b'"Ein Text, als JSON-Zeichenkette."', "Ein Text, als JSON-Zeichenkette."),
        ("Übersicht: été".encode(), "Übersicht: été"),
        (b"null", "null"),
        (b"[1, 2]", "[1, 2]"),
    ],
)
def test_a_message_that_is_not_a_json_object_is_the_text_itself(raw: bytes, text: str) -> None:
    message, completed = decode_message(raw, 1000)
    assert (message.text, completed) == (text, True), "given an id, and held in its completed form"
    assert decode_message(message.encode()) == (message, False)


def test_a_producers_own_fields_are_kept_as_meta_and_travel_with_the_message() -> None:
    raw = b'{"jobId": "nest-0001", "text": "t", "userId": 42, "createdAt": "2026-11-29T10:00:00Z"}'
    message, _ = decode_message(raw)
    assert orjson.loads(message.meta) == {"jobId": "nest-0001", "userId": 42, "createdAt": "2026-11-29T10:00:00Z"}
    assert decode_message(message.encode())[0].meta == message.meta, "kept through retries and recoveries"
    ours, _ = decode_message(new_message("t").encode())
    assert ours.meta == b"" and b"meta" not in new_message("t").encode(), "our own messages carry none"
    ignored, _ = decode_message(b'{"text": "t", "attempt": 3}')
    assert ignored.meta == b"", "an older version's attempt field is ignored, not meta"


def test_meta_over_its_limit_sends_the_message_to_the_dead_list_with_the_way_out() -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_message(orjson.dumps({"text": "t", "blob": "x" * 5000}))
    assert "meta" in str(caught.value) and "4096" in str(caught.value)


def test_an_outcome_records_only_what_is_known_and_announces_it_all() -> None:
    plain = Outcome("A summary.", "extractive")
    assert plain.record_fields() == ("summary", "A summary.", "model", "extractive")
    assert plain.usage() == ()
    event = orjson.loads(plain.event("j1", Timing(10.0, 11.5, 12.0)))
    assert event == {
        "id": "j1",
        "status": "done",
        "summary": "A summary.",
        "model": "extractive",
        "queued_s": 1.5,
        "run_s": 0.5,
        "cached": False,
        "truncated": False,
    }


def test_an_outcomes_usage_goes_to_the_record_the_totals_and_the_event_alike() -> None:
    paid = Outcome("s", "gemini", truncated=True, prompt_tokens=120, output_tokens=30, cost_usd=0.0001)
    record = decode_record("j2", _as_hash(("status", "done", *paid.record_fields())))
    event = orjson.loads(paid.event("j2", Timing(0.0, 1.0, 2.0)))
    for name in ("prompt_tokens", "output_tokens", "cost_usd", "truncated"):
        assert record[name] == event[name], name
    assert dict(zip(paid.usage()[::2], paid.usage()[1::2], strict=True)) == {
        "prompt_tokens": 120,
        "output_tokens": 30,
        "cost_usd": 0.0001,
    }
    cached = Outcome("s", "gemini", cached=True, prompt_tokens=0, output_tokens=0, unhonoured_options=("language",))
    assert cached.usage()[:2] == ("cached_jobs", 1)
    record = decode_record("j3", _as_hash(("status", "done", *cached.record_fields())))
    assert (record["cached"], record["truncated"], record["unhonoured_options"]) == (True, False, ["language"])
    assert set(record) <= {"id", *RECORD_FIELDS}, "every field the record holds has a declared type"


def test_every_reply_code_reaches_the_scripts_that_answer_with_it() -> None:
    for name, enum in (("enqueue", Enqueued), ("start", Started), ("fail", Ended), ("bury", Moved)):
        text = lua.source(name)
        assert f"local {enum.__name__} = {{" in text, name
        assert "-- @" not in text, f"{name}: an include or replies line left unfilled"
    assert "local Ended = {TAKEN = -1, ALREADY_FINAL = 0, ENDED = 1}" in lua.source("retry")
    assert "local Ended = {" in lua.source("complete")


def _as_hash(pairs: tuple[object, ...]) -> dict[bytes, bytes]:
    """Field/value pairs as Redis hands a hash back: bytes, numbers as their text."""
    return {str(k).encode(): str(v).encode() for k, v in zip(pairs[::2], pairs[1::2], strict=True)}


def test_a_byte_order_mark_before_a_json_object_changes_nothing_and_nulls_mean_absent() -> None:
    message, completed = decode_message(b'\xef\xbb\xbf{"text": "hi", "jobId": "a", "expires_at": null, "stream": null}')
    assert (message.text, orjson.loads(message.meta), completed) == ("hi", {"jobId": "a"}, True)
    assert (message.expires_at, message.stream) == (0.0, False)
    plain, _ = decode_message("\ufeffPlain text from PowerShell.".encode())
    assert plain.text == "Plain text from PowerShell."
