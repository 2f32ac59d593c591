"""Which errors mean "Redis is away" (back off, log one line) and which are bugs (a traceback)."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from app.connection.errors import lost_connection

# What uvloop raised in the chaos soak when redis-py reconnected a Pub/Sub connection mid-restart.
CLOSED_TRANSPORT = "unable to perform operation on <TCPTransport closed=True reading=False>; the handler is closed"


def test_a_lost_connection_is_an_outage_and_anything_else_a_bug() -> None:
    assert lost_connection(RedisConnectionError("Connection closed by server."))
    assert lost_connection(RuntimeError(CLOSED_TRANSPORT))
    assert not lost_connection(RuntimeError("dictionary changed size during iteration"))
    assert not lost_connection(ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"))
