"""Group commit: items submitted while a write is in flight go together in the next one."""

from __future__ import annotations

import asyncio
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

    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]], max_batch: int = 500) -> None:
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="group-commit")
        return await future

    async def flush(self) -> None:
        """Wait until everything submitted so far is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_all(self) -> None:
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
