"""The wire codec: what producers in any language may push, and what becomes of it."""

from __future__ import annotations

import orjson
import pytest

from app.options import Options
from app.queue.contract import Keys, PoisonMessage, decode_message, new_message


def test_every_key_of_a_queue_shares_its_hash_tag() -> None:
    keys = Keys("job_queue", "job_result")
    tagged = [keys.workers, keys.delayed, keys.dead, keys.job("x"), keys.processing("w"), keys.heartbeat("w")]
    tagged += [keys.totals, keys.stream("x"), keys.cache("d"), keys.cache_lock("d")]
    tagged += [keys.limit("m"), keys.cool_down("m")]
    assert all(key.startswith("{job_queue}:") for key in tagged)
    assert keys.queue == "job_queue"  # the original design's name, which hashes to the same slot


def test_a_message_round_trips() -> None:
    message = new_message("hello")
    assert decode_message(message.encode()) == (message, False)
    assert b"options" not in message.encode()  # only when asked for


def test_options_travel_in_the_message_in_standard_form() -> None:
    message = new_message("hello", Options(max_words=50, format="bullets", language="pt-BR"))
    assert orjson.loads(message.encode())["options"] == {"max_words": 50, "format": "bullets", "language": "pt-BR"}
    assert decode_message(message.encode()) == (message, False)
    foreign, _ = decode_message(b'{"text": "t", "options": {"language": "en_us"}}')
    assert foreign.options == Options(language="en-US")


def test_a_foreign_message_with_only_text_is_completed() -> None:
    message, completed = decode_message(b'{"text": "from PHP"}')
    assert completed
    assert (message.text, message.attempt) == ("from PHP", 0)
    assert len(message.id) == 32
    assert message.enqueued_at > 0


def test_a_foreign_message_keeps_its_own_id() -> None:
    message, completed = decode_message(orjson.dumps({"id": "order-17", "text": "t", "enqueued_at": 5}))
    assert (message.id, message.enqueued_at, completed) == ("order-17", 5.0, False)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"null",
        b"{",
        b'"text"',
        b'{"text": null}',
        b'{"text": ""}',
        b'{"id": 5, "text": "t"}',
        b'{"text": "t", "attempt": -1}',
        b'{"text": "t", "attempt": true}',
        b'{"id": "' + b"x" * 200 + b'", "text": "t"}',
        b'{"text": "t", "options": []}',
        b'{"text": "t", "options": {"max_words": 3}}',
        b'{"text": "t", "options": {"format": "poem"}}',
        b'{"text": "t", "options": {"language": "klingonese"}}',
    ],
)
def test_poison_is_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_message(raw)
    assert str(caught.value)
