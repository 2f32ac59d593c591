"""What "Redis is not reachable now" looks like, as opposed to a bug in a command."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Redis failures that mean "not reachable now": the caller backs off and tries again.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)
