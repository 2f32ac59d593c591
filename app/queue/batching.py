"""Group commit: items submitted while a write is in flight go together in the next one."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Writes items in batches with no added wait: the first item of an idle batcher
    is written at once (lowest latency); items that arrive while that write is in
    flight are written together by the next one (highest throughput under load).

    `submit` returns its item's result once written (`write` returns one result per
    item, in order). The write runs in its own task, so a cancelled submitter cannot
    cut a batch in half (its item stays queued and is written; only its future is
    cancelled, and the writer skips it); `flush` waits for all of them.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]], max_batch: int = 500, lanes: int = 1) -> None:
        self._write = write
        self._max_batch = max_batch
        self._lanes = lanes  # writes in flight at once: more overlap round trips when items do not depend
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writers: set[asyncio.Task[None]] = set()

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._writers) < self._lanes:
            # A context of its own: a write carries many submitters' items, not the first one's trace.
            writer = asyncio.create_task(self._write_all(), name="group-commit", context=contextvars.Context())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)  # for a writer cancelled before it ran
        return await future

    async def flush(self) -> None:
        """Wait until everything submitted so far is written."""
        while live := [writer for writer in self._writers if not writer.done()]:
            await asyncio.shield(live[0])

    async def _write_all(self) -> None:
        try:
            await self._write_pending()
        finally:
            # Gone from the set in the same step that found nothing pending: a later submit
            # either finds this writer still looping or starts a new one, never neither.
            self._writers.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as exc:  # the submitters of this batch hear of it; later batches go on
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
