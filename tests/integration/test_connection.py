"""The Redis clients RedisFactory builds, against a real redis-server: what counts as a lost
connection is retried on a new one, so no loop of the worker or the API sees it."""

from __future__ import annotations

from typing import Any

from app.config import Settings
from app.connection.factory import RedisFactory


async def test_a_write_on_a_transport_closed_under_the_client_is_retried(settings: Settings) -> None:
    """uvloop raises RuntimeError, not a connection error, when redis-py writes to a transport that
    closed between the pool's check and the send (a Redis restart). Injected once here: the command
    still succeeds, on a new connection, instead of ending the loop that sent it."""
    client = RedisFactory(settings).client()
    pool = client.connection_pool
    armed, failures = [False], []

    class ClosedOnce(pool.connection_class):  # type: ignore[misc,name-defined]
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            if armed[0] and not failures:  # a command on a connection that was open: not its handshake
                failures.append("closed")
                await self.disconnect(nowait=True)
                raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")
            await super().send_packed_command(command, check_health)

    pool.connection_class = ClosedOnce
    try:
        assert await client.ping()  # the connection is made
        armed[0] = True
        assert await client.set("connection-test", "ok")
        assert await client.get("connection-test") == b"ok"
    finally:
        await client.aclose()
    assert failures == ["closed"], "the fault was injected, and retried"
