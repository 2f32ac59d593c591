"""The job transitions, on a real redis-server and on the embedded broker alike."""

from __future__ import annotations

import orjson
import pytest

from app.queue.message import Message, new_message
from app.queue.producer import DuplicateRequest, Enqueue, JobExists, QueueFull
from app.queue.store import Queue
from app.queue.transitions import Delta
from tests.helpers import TIMING, complete, drain_events, take

WORKER = "w1"


async def test_enqueue_writes_the_record_and_pushes_the_message(queue: Queue) -> None:
    message = new_message("some text")
    await queue.producer.enqueue(message)
    assert await queue.redis.lrange(queue.keys.queue, 0, -1) == [message.encode()]
    record = await queue.reads.get_job(message.id)
    assert record is not None
    assert record["status"] == "queued"
    assert record["attempts"] == 0
    assert record["text_chars"] == len("some text")


async def test_enqueue_is_idempotent_by_id(queue: Queue) -> None:
    message = new_message("once")
    await queue.producer.enqueue(message)
    with pytest.raises(JobExists):
        await queue.producer.enqueue(message)
    assert await queue.redis.llen(queue.keys.queue) == 1


async def test_enqueue_at_the_length_limit_writes_nothing(queue: Queue) -> None:
    for _ in range(2):
        await queue.producer.enqueue(new_message("x"), max_length=2)
    rejected = new_message("y")
    with pytest.raises(QueueFull):
        await queue.producer.enqueue(rejected, max_length=2)
    assert await queue.redis.llen(queue.keys.queue) == 2
    assert await queue.reads.get_job(rejected.id) is None


async def test_a_batch_decides_each_job_as_enqueue_would(queue: Queue) -> None:
    """One round trip for the batch; each job in order: queued, already there, a
    repeated idempotency key, or over the queue limit, and only the queued are pushed."""
    existing = new_message("already here")
    await queue.producer.enqueue(existing)
    first, again, repeat, fits, over = (new_message(f"job {i}") for i in range(5))
    admitted = await queue.producer.enqueue_many(
        [
            Enqueue(first, max_length=4, key="k1"),
            Enqueue(existing, max_length=4),
            Enqueue(again, max_length=4),
            Enqueue(repeat, max_length=4, key="k1"),
            Enqueue(fits, max_length=4),
            Enqueue(over, max_length=4),
        ]
    )
    outcomes = [each.refused for each in admitted]
    assert outcomes[0] is None and outcomes[2] is None and outcomes[4] is None
    assert isinstance(outcomes[1], JobExists)
    assert isinstance(outcomes[3], DuplicateRequest) and outcomes[3].job_id == first.id
    assert isinstance(outcomes[5], QueueFull)
    queued = await queue.redis.lrange(queue.keys.queue, 0, -1)
    assert sorted(queued) == sorted(m.encode() for m in (existing, first, again, fits))
    assert await queue.reads.get_job(repeat.id) is None
    assert await queue.reads.get_job(over.id) is None


async def test_reserve_takes_a_backlog_in_one_batch_oldest_first(queue: Queue) -> None:
    messages = [new_message(f"text {i}") for i in range(5)]
    for message in messages:
        await queue.producer.enqueue(message)
    taken = await queue.transitions.reserve(WORKER, 3, block_s=0)
    assert taken == [m.encode() for m in messages[:3]]
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 3
    assert await queue.redis.llen(queue.keys.queue) == 2


async def test_reserve_on_an_empty_queue_waits_then_returns_nothing(queue: Queue) -> None:
    assert await queue.transitions.reserve(WORKER, 10, block_s=1) == []


async def test_start_marks_running_and_counts_the_attempt(queue: Queue) -> None:
    message = new_message("run me")
    await queue.producer.enqueue(message)
    [job] = await take(queue, WORKER, 1)
    assert job.message == message
    assert job.attempt == 1
    record = await queue.reads.get_job(message.id)
    assert record is not None
    assert (record["status"], record["worker"], record["attempts"]) == ("running", WORKER, 1)


async def test_complete_records_releases_and_publishes_once(queue: Queue) -> None:
    message = new_message("finish me")
    await queue.producer.enqueue(message)
    [job] = await take(queue, WORKER, 1)
    pubsub = queue.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(queue.keys.channel)
    assert await complete(queue, WORKER, job, "short", "m") is True
    assert await complete(queue, WORKER, job, "other", "m") is False
    record = await queue.reads.get_job(message.id)
    assert record is not None
    assert (record["status"], record["summary"]) == ("done", "short")
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0
    assert 0 < await queue.redis.ttl(queue.keys.job(message.id)) <= 60
    events = await drain_events(pubsub, seconds=0.5)
    assert [orjson.loads(e)["id"] for e in events] == [message.id]
    await pubsub.aclose()


async def test_progress_pieces_are_read_back_in_order_after_an_id(queue: Queue) -> None:
    message = new_message("streamed")
    await queue.producer.enqueue(message)
    await queue.transitions.add_progress_many([Delta(message.id, 1, piece) for piece in ("One ", "two ", "three.")])
    record, pieces = await queue.reads.job_and_progress(message.id, "-")
    assert record is not None and record["status"] == "queued"
    assert [(attempt, text) for _, attempt, text in pieces] == [(1, "One "), (1, "two "), (1, "three.")]
    _, rest = await queue.reads.job_and_progress(message.id, pieces[0][0])
    assert [text for _, _, text in rest] == ["two ", "three."]
    assert 0 < await queue.redis.ttl(queue.keys.stream(message.id)) <= 60


async def test_fail_records_the_error_and_dead_letters_the_message(queue: Queue) -> None:
    message = new_message("doomed")
    await queue.producer.enqueue(message)
    [job] = await take(queue, WORKER, 1)
    assert await queue.transitions.fail(WORKER, job, "model said no", TIMING) is True
    record = await queue.reads.get_job(message.id)
    assert record is not None
    assert (record["status"], record["error"]) == ("failed", "model said no")
    [dead] = await queue.redis.lrange(queue.keys.dead, 0, -1)
    assert orjson.loads(dead)["reason"] == "model said no"
    assert orjson.loads(dead)["id"] == message.id
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0


async def test_a_finished_job_delivered_again_is_released_not_run(queue: Queue) -> None:
    message = new_message("twice")
    await queue.producer.enqueue(message)
    [job] = await take(queue, WORKER, 1)
    await complete(queue, WORKER, job, "s", "m")
    await queue.redis.lpush(queue.keys.queue, message.encode())  # a duplicate delivery
    assert await take(queue, WORKER, 1) == []
    assert await queue.redis.llen(queue.keys.processing(WORKER)) == 0


async def test_a_foreign_message_gets_an_id_a_record_and_is_held_under_it(queue: Queue) -> None:
    await queue.redis.lpush(queue.keys.queue, b'{"text": "from another language"}')
    [job] = await take(queue, WORKER, 1)
    assert job.message.text == "from another language"
    assert await queue.redis.lrange(queue.keys.processing(WORKER), 0, -1) == [job.raw]
    assert Message(**orjson.loads(job.raw)).id == job.message.id
    record = await queue.reads.get_job(job.message.id)
    assert record is not None and record["status"] == "running"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"  {", "not JSON"),
        (b'{"id": "a"}', "no text"),
        (b'{"text": "   "}', "no text"),
        (b'{"text": 5}', "no text"),
        (b'{"id": "has space", "text": "t"}', "bad id"),
        (b"\xff\xfe", "not UTF-8"),
        (b"   ", "no text"),
    ],
)
async def test_poison_messages_go_to_the_dead_list_with_a_reason(queue: Queue, raw: bytes, reason: str) -> None:
    good = new_message("fine")
    await queue.redis.lpush(queue.keys.queue, raw)
    await queue.producer.enqueue(good)
    jobs = await take(queue, WORKER, 10)
    assert [job.message.id for job in jobs] == [good.id]
    [dead] = await queue.redis.lrange(queue.keys.dead, 0, -1)
    entry = orjson.loads(dead)
    assert entry["reason"].startswith(reason)
    assert entry["message"] == raw.decode("utf-8", "replace")


async def test_a_start_retried_after_a_lost_reply_changes_nothing(queue: Queue) -> None:
    await queue.redis.lpush(queue.keys.queue, b'{"text": "foreign"}', new_message("native").encode())
    taken = queue.transitions.prepare(await queue.transitions.reserve(WORKER, 2, block_s=0))
    first = await queue.transitions.start(WORKER, taken)
    again = await queue.transitions.start(WORKER, taken)  # as if the first reply was lost
    assert again == first
    assert [job.attempt for job in again] == [1, 1]
    held = await queue.redis.lrange(queue.keys.processing(WORKER), 0, -1)
    assert sorted(held) == sorted(job.raw for job in first), "each job held once, under one id"


async def test_an_idempotency_key_stored_before_fingerprints_still_replays_its_job(queue: Queue) -> None:
    await queue.redis.set(queue.keys.idempotency("default", "legacy-key"), b"2024:17")  # a bare id, with a colon
    [admitted] = await queue.producer.enqueue_many([Enqueue(new_message("t"), key="legacy-key", fingerprint="ab" * 32)])
    assert isinstance(admitted.refused, DuplicateRequest) and admitted.refused.job_id == "2024:17"
