"""A TCP proxy in front of Redis that can stall: every connection open at that moment stops
carrying bytes both ways, yet stays open, while new connections work. What a client sees when
the server behind a connection vanished without a FIN (a container's network torn down, a NAT
entry or a load balancer gone): its commands wait out the socket timeout, Redis itself is fine."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class StallingProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._server: asyncio.Server | None = None
        self._live: list[asyncio.Event] = []  # one per connection: set while it stalls
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stall(self) -> int:
        """Stall every connection open now; returns how many."""
        for stalled in self._live:
            stalled.set()
        count, self._live = len(self._live), []
        return count

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        stalled = asyncio.Event()
        self._live.append(stalled)
        self._writers += [writer, up_writer]
        pumps = [self._pump(reader, up_writer, stalled), self._pump(up_reader, writer, stalled)]
        for pump in pumps:
            task = asyncio.create_task(pump)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, stalled: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if not stalled.is_set():  # once stalled, bytes are swallowed: no answer, no close
                    sink.write(data)
                    await sink.drain()
        if not stalled.is_set():
            sink.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[StallingProxy]:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for writer in self._writers:
                writer.close()
