"""The Lua scripts of every multi-key transition; each file documents its KEYS, ARGV, reply
and the events it publishes.

Two lines are filled in when a script is loaded, since Redis runs one text per script:
`-- @include NAME` becomes includes/NAME.lua (local functions several scripts share, as
BullMQ's scripts include theirs), and `-- @replies NAME` becomes the reply codes of
app/queue/replies.py as a Lua table (`local Ended = {ALREADY_FINAL = 0, ENDED = 1}`).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from app.queue import replies

if TYPE_CHECKING:
    from enum import IntEnum

    from redis.commands.core import AsyncScript

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


def register(redis: aioredis.Redis, name: str) -> AsyncScript:
    """The script `name`.lua, bound to `redis` (EVALSHA, loading it on first use)."""
    return redis.register_script(source(name))
