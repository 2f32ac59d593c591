"""HTTP/1.1 over a raw socket, for tests of what no HTTP client would send: an answer read back
as bytes, and real servers (runners) started on free ports for the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import orjson
import pytest
from aiohttp import web

from tests.redis_server import free_port

# Start a runner on a free port of 127.0.0.1; returns the port (stopped after the test).
Serve = Callable[[web.AppRunner], Awaitable[int]]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def problem(self) -> dict[str, object]:
        assert self.headers.get("content-type") == "application/problem+json", self
        return orjson.loads(self.body)


async def read_head(reader: asyncio.StreamReader) -> Answer:
    """An answer's status and headers (its body still to read)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, b"")


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    answer = await read_head(reader)
    answer.body = await reader.readexactly(int(answer.headers.get("content-length", "0")))
    return answer


async def send(port: int, raw: bytes) -> Answer:
    """Send `raw` on a new connection; the answer, within 10 s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(10):
            return await read_answer(reader)
    finally:
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def start(runner: web.AppRunner) -> int:
        await runner.setup()
        runners.append(runner)
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return port

    yield start
    for runner in runners:
        await runner.cleanup()
