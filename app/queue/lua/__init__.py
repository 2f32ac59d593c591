"""The Lua scripts of every multi-key transition; each file documents its KEYS, ARGV, reply
and the events it publishes.

Two lines are filled in when a script is loaded, since Redis runs one text per script:
`-- @include NAME` becomes includes/NAME.lua (local functions several scripts share, as
BullMQ's scripts include theirs), and `-- @replies NAME` becomes the reply codes of
app/queue/replies.py as a Lua table (`local Ended = {ALREADY_FINAL = 0, ENDED = 1}`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from app.queue import replies

if TYPE_CHECKING:
    from enum import IntEnum

_INCLUDE = re.compile(r"^-- @include (\w+)$", re.MULTILINE)
_REPLIES = re.compile(r"^-- @replies (\w+)$", re.MULTILINE)
_ENUMS: dict[str, type[IntEnum]] = {enum.__name__: enum for enum in replies.ALL}


@cache
def source(name: str) -> str:
    """The text of `name`.lua with its includes and reply codes filled in."""
    folder = resources.files(__package__)
    text = folder.joinpath(f"{name}.lua").read_text()
    text = _INCLUDE.sub(lambda match: folder.joinpath("includes", f"{match[1]}.lua").read_text(), text)
    return _REPLIES.sub(lambda match: _lua_table(_ENUMS[match[1]]), text)


def _lua_table(enum: type[IntEnum]) -> str:
    members = ", ".join(f"{member.name} = {member.value}" for member in enum)
    return f"local {enum.__name__} = {{{members}}}"


# Every script's text by its SHA1: what app/queue/pipes.py loads when a pipeline meets NOSCRIPT.
SOURCES: dict[str, str] = {}


class Script:
    """A script bound to a client: EVALSHA, loading it on NOSCRIPT (a Redis restarted, or new).
    In a pipeline it queues a bare EVALSHA once the script has been sent to Redis from this
    process. (redis-py's own script objects make a pipeline that holds one ask SCRIPT EXISTS
    before every execution: a round trip more per start batch and per intake batch. The first
    pipeline still goes that way, so a caller's own `pipe.execute()` works on a fresh Redis; after
    a restart empties the script cache, app/queue/pipes.execute loads a missing script and runs
    again only what NOSCRIPT refused, which did nothing.)"""

    def __init__(self, redis: aioredis.Redis, text: str) -> None:
        self._redis = redis
        self.source = self.script = text  # `script`: what redis-py's pipeline loads
        self.sha = hashlib.sha1(text.encode()).hexdigest()
        SOURCES[self.sha] = text
        self._sent = False

    async def __call__(
        self, keys: Sequence[object] = (), args: Sequence[object] = (), client: aioredis.client.Pipeline | None = None
    ) -> Any:
        if client is not None:
            # In a MULTI, redis-py loads it first: a re-run after NOSCRIPT would split the transaction.
            if not self._sent or client.is_transaction:
                self._sent = True
                client.scripts.add(self)  # type: ignore[arg-type]  # loaded (if missing) when it executes
            client.evalsha(self.sha, len(keys), *keys, *args)
            return None
        try:
            return await self._redis.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]
        except NoScriptError:
            await self._redis.script_load(self.source)
            return await self._redis.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]


def register(redis: aioredis.Redis, name: str) -> Script:
    """The script `name`.lua, bound to `redis`."""
    return Script(redis, source(name))
