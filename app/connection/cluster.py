"""Redis Cluster: every key of a queue shares one hash slot, so a queue lives on one node.

The queue's client talks to the node that owns that slot as to a single Redis (pipelines,
Lua scripts, MULTI, Pub/Sub, which a cluster broadcasts to every node), and follows the
slot: a MOVED reply or a node that stops answering makes the next connection ask the
cluster again (CLUSTER SLOTS), so a failover or a resharding costs a retry, not an outage.
redis-py's RedisCluster client cannot be used instead: it refuses scripts in pipelines,
and batching many jobs' scripts into one round trip is where this queue's speed comes from.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.crc import key_slot
from redis.exceptions import AskError, ClusterDownError, MovedError, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError

from app.connection.packing import HiredisPackingConnection
from app.connection.urls import Address

# Error codes of a slot in motion (as redis-py 5 reports them: in the text).
PASSING = frozenset({"ASK", "TRYAGAIN", "CLUSTERDOWN"})


class SlotRoute:
    """Which node owns one hash slot, asked of the cluster when not known."""

    def __init__(self, seeds: list[Address], key: str, client_kwargs: dict[str, Any]) -> None:
        self.slot = key_slot(key.encode())
        self._seeds = list(seeds)
        self._client_kwargs = client_kwargs  # password, timeouts: what a seed connection needs
        self._owner: Address | None = None
        self._lock = asyncio.Lock()

    async def owner(self) -> Address:
        if self._owner is None:
            async with self._lock:  # one lookup for a burst of new connections
                if self._owner is None:
                    self._owner = await self._discover()
        return self._owner

    def moved(self, address: Address) -> None:
        self._owner = address

    def forget(self) -> None:
        self._owner = None

    async def _discover(self) -> Address:
        errors = []
        for host, port in self._seeds:
            try:
                async with aioredis.Redis(host=host, port=port, **self._client_kwargs) as seed:
                    ranges = await seed.execute_command("CLUSTER", "SLOTS")
            except (RedisConnectionError, OSError) as exc:
                errors.append(f"{host}:{port}: {exc}")
                continue
            owner = self._owner_in(ranges, default_host=host)
            if owner is not None:
                return owner
            errors.append(f"{host}:{port}: no node serves slot {self.slot}")
        raise RedisConnectionError(f"no cluster node told who owns slot {self.slot}: {'; '.join(errors)}")

    def _owner_in(self, ranges: list[Any], default_host: str) -> Address | None:
        owner = None
        for start, end, master, *_replicas in ranges:
            host = (master[0].decode() if isinstance(master[0], bytes) else master[0]) or default_host
            address = (host, int(master[1]))
            if address not in self._seeds:  # every master is a seed for the next lookup
                self._seeds.append(address)
            if int(start) <= self.slot <= int(end):
                owner = address
        return owner


class SlotConnection(HiredisPackingConnection):
    """A connection to whichever node owns the route's slot at the time it connects."""

    def __init__(self, *, route: SlotRoute, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.route = route

    async def _connect(self) -> None:
        self.host, self.port = await self.route.owner()
        try:
            await super()._connect()
        except (OSError, TimeoutError):
            self.route.forget()  # a failover may have given the slot to another node
            raise

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)
        except ResponseError as error:
            redirected = self._redirected(error)
            if redirected is error:
                raise
            raise redirected from error

    def _redirected(self, error: ResponseError) -> Exception:
        """A cluster redirection as a connection error (redis-py retries those on a new
        connection, which goes to the slot's owner), anything else as it was. redis-py 6+
        raises MovedError and friends (their text without the code); 5.x raises a plain
        ResponseError whose text starts with the code."""
        kind, _, rest = str(error).partition(" ")
        if isinstance(error, MovedError) or kind == "MOVED":
            address = f"{error.host}:{error.port}" if isinstance(error, MovedError) else rest.partition(" ")[2]
            host, _, port = address.rpartition(":")
            self.route.moved((host, int(port)))
            # Nothing ran on this node (it refused), so running the command again is safe.
            return RedisConnectionError(f"hash slot {self.route.slot} moved to {address}")
        if isinstance(error, (AskError, TryAgainError, ClusterDownError)) or kind in PASSING:
            # The slot is being migrated, or the cluster is failing over: nothing ran. As an
            # outage, the caller backs off and tries again until the slot has settled (then
            # MOVED points to its new owner). A queue's scripts need all its keys on one node,
            # so following a per-command ASK would not help.
            return RedisConnectionError(f"cluster busy with slot {self.route.slot}: {error}")
        return error
