"""Redis clients for each role: a real server from REDIS_URL, or the embedded in-process broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.config import Settings
from app.connection.cluster import SlotConnection, SlotRoute
from app.connection.packing import HiredisPackingConnection
from app.connection.urls import parse_hosts_url

SOCKET_TIMEOUT_S = 5.0
# Connections per client. Redis pipelines nothing across connections, so more
# than this buys no throughput from one process; a burst waits for one instead.
MAX_CONNECTIONS = 64
POOL_WAIT_S = 5.0
_POOL_OPTIONS: dict[str, Any] = {
    "max_connections": MAX_CONNECTIONS,
    "timeout": POOL_WAIT_S,
    "socket_connect_timeout": 2.0,
    "socket_timeout": SOCKET_TIMEOUT_S,
    "health_check_interval": 15,
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
    # RuntimeError: uvloop's answer to a write on a transport that closed under redis-py (the
    # server went away between the pool's check and the send); a new connection is the cure.
    "retry_on_error": [RedisConnectionError, RedisTimeoutError, RuntimeError],
}


class _SentinelRedis(aioredis.Redis):
    """A master's client that also closes its connections to the sentinels."""

    sentinels: list[aioredis.Redis]

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for sentinel in getattr(self, "sentinels", ()):
            await sentinel.aclose()


@dataclass
class RedisFactory:
    """Where a process finds Redis. One per process; `client()` hands out clients
    that share the embedded server when there is no REDIS_URL."""

    settings: Settings
    _server: object | None = field(default=None, init=False)
    _route: SlotRoute | None = field(default=None, init=False)

    @property
    def embedded(self) -> bool:
        return self.settings.redis_url is None

    def client(self) -> aioredis.Redis:
        """A new client. A few quick retries ride out a blip; an outage surfaces
        within seconds as an UNAVAILABLE error instead of a hang."""
        if self.embedded:
            return self._fake_client()
        assert self.settings.redis_url is not None
        if self.settings.redis_cluster:
            return self._cluster_client()
        if self.settings.redis_url.startswith("redis+sentinel://"):
            return self._sentinel_client()
        # A bounded pool that makes a burst queue for a connection instead of
        # failing with "Too many connections" (redis-py's plain pool stops at 100).
        pool = aioredis.BlockingConnectionPool.from_url(self.settings.redis_url, **_POOL_OPTIONS)
        if pool.connection_class is aioredis.Connection:  # plain TCP; TLS and unix sockets keep their own
            pool.connection_class = HiredisPackingConnection
        return aioredis.Redis.from_pool(pool)

    def _cluster_client(self) -> aioredis.Redis:
        """A client of the cluster node that owns the queue's hash slot (see app/cluster.py)."""
        assert self.settings.redis_url is not None
        seeds, credentials = parse_hosts_url(self.settings.redis_url)
        if self._route is None:  # one lookup of the slot's owner for every client of the process
            self._route = SlotRoute(seeds, self.settings.queue_name, {**credentials, "socket_connect_timeout": 2.0})
        host, port = seeds[0]
        pool = aioredis.BlockingConnectionPool(
            connection_class=SlotConnection, route=self._route, host=host, port=port, **credentials, **_POOL_OPTIONS
        )
        return aioredis.Redis.from_pool(pool)

    def _sentinel_client(self) -> aioredis.Redis:
        """A client of the master that Sentinel names; after a failover its connections
        go to the new master (redis-py's SentinelConnectionPool)."""
        assert self.settings.redis_url is not None
        sentinels, credentials = parse_hosts_url(self.settings.redis_url)
        path = self.settings.redis_url.split("://", 1)[1].partition("/")[2].split("/")
        service, db = path[0], int(path[1]) if len(path) > 1 and path[1] else 0
        sentinel = Sentinel(sentinels, sentinel_kwargs={"socket_timeout": 2.0})
        options = {k: v for k, v in _POOL_OPTIONS.items() if k not in ("max_connections", "timeout")}
        client = sentinel.master_for(service, redis_class=_SentinelRedis, db=db, **credentials, **options)
        client.sentinels = sentinel.sentinels
        return client

    def _fake_client(self) -> aioredis.Redis:
        import fakeredis  # embedded mode only: the real roles never import it

        if self._server is None:
            self._server = fakeredis.FakeServer()
        return fakeredis.FakeAsyncRedis(server=self._server)
