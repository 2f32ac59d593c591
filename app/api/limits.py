"""The API's caps on what clients hold open: connections per process (the ConnectionGate that
app/api/edge.py's connections pass through), event streams per process (`capped_streams`), each
tenant's share of streams and of waiting requests (`TENANT_SHARE`), and the file descriptors all
of them need (`fit_to_fd_limit`, at start).

At MAX_CONNECTIONS, a new connection closes the one that has waited longest for a request head
(an idle kept-alive connection, or one that opened and said nothing, or is trickling a header):
idle sockets cost a file descriptor and nothing else, and a client that is about to send a
request (a healthcheck, a real user) is worth more than the one that has been silent longest.
Only when every connection is busy with a request is the new one refused: 503 problem+json
with Retry-After, written without reading anything from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import resource
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from typing import Protocol

from aiohttp import web

from app.api.problems import Handler, Problem
from app.api.resources import SETTINGS, TENANTS
from app.api.security import tenant_of
from app.config import Role, Settings
from app.connection.factory import MAX_CONNECTIONS as REDIS_POOL_SIZE

log = logging.getLogger(__name__)

# File descriptors a process uses besides its clients' connections: stdio, the event loop's
# poller and wake-up pipe, the listening sockets, the logs, imported extension modules.
BASE_FDS = 40
# Never lower MAX_CONNECTIONS below this to fit a small fd limit: a process that cannot hold
# this many connections is misconfigured, and the warning says so.
FLOOR_CONNECTIONS = 16
# How often the edge writes its tally of connections it closed or refused (one line, not one per socket).
TALLY_EVERY_S = 60.0
STREAMS_RETRY_AFTER_S = 5
# With API keys (several tenants), one tenant may hold at most this share of a process's event
# streams (MAX_EVENT_STREAMS) and of its connections waiting on ?wait= (MAX_CONNECTIONS): no one
# tenant can take them all.
TENANT_SHARE = 0.5


class Closable(Protocol):
    """A connection the gate can close to make room."""

    def evict(self) -> None: ...


class ConnectionGate:
    """The open connections of one server, and which of them wait for a request head,
    longest-waiting first."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: set[Closable] = set()
        self._idle: dict[Closable, None] = {}  # insertion order: longest-waiting first
        self._tally: Counter[str] = Counter()
        self._tallied_at = float("-inf")
        self._flush: asyncio.TimerHandle | None = None

    @property
    def open(self) -> int:
        return len(self._open)

    def admit(self, conn: Closable) -> bool:
        """Whether `conn` may stay open; at the cap, the longest-idle connection makes room."""
        if len(self._open) >= self.cap:
            if not self._idle:
                self.note("refused_all_busy")
                return False
            oldest = next(iter(self._idle))
            self.release(oldest)
            oldest.evict()
            self.note("closed_longest_idle")
        self._open.add(conn)
        self._idle[conn] = None
        return True

    def waiting(self, conn: Closable) -> None:
        """`conn` waits for its next request head (it is the most recently idle)."""
        if conn in self._open:
            self._idle.pop(conn, None)
            self._idle[conn] = None

    def busy(self, conn: Closable) -> None:
        self._idle.pop(conn, None)

    def release(self, conn: Closable) -> None:
        self._open.discard(conn)
        self._idle.pop(conn, None)

    def note(self, what: str) -> None:
        """Count a connection the edge closed or refused. The first of a burst is written at
        once, the rest as one line per TALLY_EVERY_S (never one line per socket)."""
        self._tally[what] += 1
        if self._flush is not None:
            return
        wait_s = self._tallied_at + TALLY_EVERY_S - time.monotonic()
        if wait_s <= 0:
            self._write_tally()
        else:
            self._flush = asyncio.get_running_loop().call_later(wait_s, self._write_tally)

    def _write_tally(self) -> None:
        self._flush = None
        extra = {**self._tally, "open": len(self._open), "max_connections": self.cap}
        log.warning(
            "connections closed at the edge (closed_slow_head: no request head within HEADER_TIMEOUT; "
            "closed_longest_idle: to make room at MAX_CONNECTIONS; refused_all_busy: 503, every connection busy)",
            extra=extra,
        )
        self._tally.clear()
        self._tallied_at = time.monotonic()


class _Held:
    """What the clients of one app hold open: event streams, in all and by tenant, and requests
    waiting on ?wait=, by tenant."""

    __slots__ = ("streams", "streams_by_tenant", "waits_by_tenant")

    def __init__(self) -> None:
        self.streams = 0
        self.streams_by_tenant: Counter[str] = Counter()
        self.waits_by_tenant: Counter[str] = Counter()


_HELD: weakref.WeakKeyDictionary[web.Application, _Held] = weakref.WeakKeyDictionary()


def held_open(app: web.Application) -> dict[str, dict[str, int]]:
    """What each tenant holds open in this process (for /stats): event streams, ?wait= requests."""
    held = _HELD.get(app) or _Held()
    return {"streams": dict(held.streams_by_tenant), "waits": dict(held.waits_by_tenant)}


def _share(request: web.Request, cap: int) -> int:
    """What one tenant may hold of `cap`: all of it on an open service (one user), else TENANT_SHARE."""
    return max(1, int(cap * TENANT_SHARE)) if request.app[TENANTS].required else cap


def capped_streams(handler: Handler) -> Handler:
    """`handler` (an event stream) while fewer than MAX_EVENT_STREAMS are open in this app and
    the caller's tenant holds less than its share; beyond, 503 problem+json
    /problems/too-many-streams (429 for a tenant at its share), with Retry-After."""

    @functools.wraps(handler)
    async def capped(request: web.Request) -> web.StreamResponse:
        held = _HELD.setdefault(request.app, _Held())
        cap, tenant = request.app[SETTINGS].max_event_streams, tenant_of(request).name
        headers = {"Retry-After": str(STREAMS_RETRY_AFTER_S)}
        if held.streams >= cap:
            detail = (
                f"this server holds {cap} event streams, its limit (MAX_EVENT_STREAMS): retry after "
                f"{STREAMS_RETRY_AFTER_S} s, or poll GET /jobs/{{id}}?wait="
            )
            raise Problem(503, "too-many-streams", "Service Unavailable", detail, headers)
        share = _share(request, cap)
        if held.streams_by_tenant[tenant] >= share:
            detail = (
                f"your tenant holds {share} event streams on this server, its share (half of MAX_EVENT_STREAMS): "
                f"close one, retry after {STREAMS_RETRY_AFTER_S} s, or poll GET /jobs/{{id}}?wait="
            )
            raise Problem(429, "tenant-streams", "Too Many Requests", detail, headers)
        held.streams += 1
        held.streams_by_tenant[tenant] += 1
        try:
            return await handler(request)
        finally:
            held.streams -= 1
            held.streams_by_tenant[tenant] -= 1
            if not held.streams_by_tenant[tenant]:
                del held.streams_by_tenant[tenant]

    return capped


@contextlib.contextmanager
def tenant_wait(request: web.Request) -> Iterator[bool]:
    """Whether the caller may hold its request open on ?wait=: while its tenant holds less than
    its share of MAX_CONNECTIONS in waits. Beyond, the answer comes at once, as without ?wait=
    (a 202, or the record as it is): the client polls, and other tenants keep their connections."""
    held = _HELD.setdefault(request.app, _Held())
    tenant = tenant_of(request).name
    if held.waits_by_tenant[tenant] >= _share(request, request.app[SETTINGS].max_connections):
        yield False
        return
    held.waits_by_tenant[tenant] += 1
    try:
        yield True
    finally:
        held.waits_by_tenant[tenant] -= 1
        if not held.waits_by_tenant[tenant]:
            del held.waits_by_tenant[tenant]


def fd_margin(settings: Settings) -> int:
    """File descriptors an API process needs besides its clients' connections: the base, and
    each Redis pool it opens (the API's; ROLE=all's worker has its own) with its Pub/Sub."""
    pools = 0 if settings.redis_url is None else 2 if settings.role is Role.ALL else 1
    return BASE_FDS + pools * (REDIS_POOL_SIZE + 1)


def fit_to_fd_limit(settings: Settings) -> Settings:
    """The settings with caps this process can hold open. An event stream is a connection (it
    takes no descriptor of its own), so the need is MAX_CONNECTIONS plus the margin. Below it,
    the soft limit is raised toward the hard one; if that is still short, MAX_CONNECTIONS is
    lowered to fit (and MAX_EVENT_STREAMS to half of it, so streams never take every
    connection), and one warning says so: a cap the process can keep beats a /healthz that
    fails when the descriptors run out."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    margin = fd_margin(settings)
    need = settings.max_connections + margin
    if soft == resource.RLIM_INFINITY or soft >= need:
        return settings
    soft = _raise_soft_limit(soft, hard, need)
    if soft >= need:
        return settings
    connections = max(FLOOR_CONNECTIONS, soft - margin)
    streams = min(settings.max_event_streams, max(1, connections // 2))
    log.warning(
        "the file-descriptor limit is too low for MAX_CONNECTIONS: lowered the caps to fit",
        extra={
            "fd_soft_limit": soft,
            "fd_hard_limit": "unlimited" if hard == resource.RLIM_INFINITY else hard,
            "fds_needed": need,
            "fd_margin": margin,
            "max_connections": connections,
            "configured_max_connections": settings.max_connections,
            "max_event_streams": streams,
            "configured_max_event_streams": settings.max_event_streams,
            "fix": f"raise the limit to {need} or more (ulimit -n {need}; docker run --ulimit nofile={need}; "
            f"compose: ulimits: nofile: {need}), or set MAX_CONNECTIONS to {connections} or less",
        },
    )
    return dataclasses.replace(settings, max_connections=connections, max_event_streams=streams)


def _raise_soft_limit(soft: int, hard: int, need: int) -> int:
    """The soft limit after raising it toward `need` (as far as the hard limit allows)."""
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if target <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    log.info("raised the file-descriptor soft limit for MAX_CONNECTIONS", extra={"from": soft, "to": target})
    return target
