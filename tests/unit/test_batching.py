"""Group commit: no wait when idle, batches under load, each submitter gets its own result or error."""

from __future__ import annotations

import asyncio

import pytest

from app.queue.batching import GroupCommit


class Recorder:
    """A write that records its batches and can be held open or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_on: set[int] = set()

    async def write(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await self.gate.wait()
        if self.fail_on & set(items):
            raise ConnectionError("redis went away")
        return [item * 10 for item in items]


async def test_an_idle_batcher_writes_at_once_and_returns_each_result() -> None:
    recorder = Recorder()
    batcher = GroupCommit(recorder.write)
    assert await batcher.submit(1) == 10
    assert recorder.batches == [[1]]


async def test_items_arriving_during_a_write_go_together_in_the_next() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = GroupCommit(recorder.write)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0)  # the first write is now in flight, held by the gate
    rest = [asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40]
    assert recorder.batches == [[1], [2, 3, 4]]


async def test_a_failed_batch_fails_its_submitters_and_later_batches_go_on() -> None:
    recorder = Recorder()
    recorder.fail_on = {1}
    batcher = GroupCommit(recorder.write)
    with pytest.raises(ConnectionError):
        await batcher.submit(1)
    assert await batcher.submit(2) == 20


async def test_a_cancelled_submitter_does_not_cut_the_write() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = GroupCommit(recorder.write)
    submitter = asyncio.create_task(batcher.submit(7))
    await asyncio.sleep(0)
    submitter.cancel()
    recorder.gate.set()
    await batcher.flush()
    assert recorder.batches == [[7]]  # written whole although its submitter was gone
    assert submitter.cancelled()


async def test_batches_are_capped() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = GroupCommit(recorder.write, max_batch=2)
    tasks = [asyncio.create_task(batcher.submit(i)) for i in range(5)]
    await asyncio.sleep(0)
    recorder.gate.set()
    await asyncio.gather(*tasks)
    assert [len(batch) for batch in recorder.batches] == [2, 2, 1]


async def test_two_lanes_keep_two_writes_in_flight_and_flush_waits_for_both() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = GroupCommit(recorder.write, lanes=2)
    submitted = [asyncio.create_task(batcher.submit(i)) for i in range(5)]
    await asyncio.sleep(0)  # the submitters run
    await asyncio.sleep(0)  # the writers take what is pending
    assert recorder.batches == [[0, 1, 2, 3, 4]]  # all arrived before the first writer ran: one batch
    more = [asyncio.create_task(batcher.submit(i)) for i in range(5, 8)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert recorder.batches[1:] == [[5, 6, 7]]  # the second lane writes while the first is still in flight
    recorder.gate.set()
    await batcher.flush()
    assert [task.result() for task in submitted + more] == [i * 10 for i in range(8)]
