"""What "Redis cannot take this now" looks like (unreachable, or full), as opposed to a bug in a command."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Redis failures that mean "not reachable now": the caller backs off and tries again.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)
# Redis full: with maxmemory and noeviction it refuses writes that may grow memory (OOM) until
# something frees memory; nothing was written.
FULL = OutOfMemoryError
# What a writer backs off from and tries again: Redis unreachable, or full.
RETRY_LATER = (*UNAVAILABLE, FULL)


def lost_connection(exc: BaseException) -> bool:
    """Redis unreachable, including the RuntimeError uvloop raises when redis-py writes to a transport
    that closed under it while reconnecting (seen during a Redis restart): an outage, not a bug."""
    return isinstance(exc, UNAVAILABLE) or (isinstance(exc, RuntimeError) and "closed" in str(exc))
