"""The Lua scripts of every multi-key transition; each file documents its KEYS, ARGV and reply.

A line `-- @include NAME` in a script is replaced by includes/NAME.lua (a local function
that several scripts share), as BullMQ's scripts include theirs: Redis runs one text per
script, so a shared step is spliced in rather than called.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

_INCLUDE = re.compile(r"^-- @include (\w+)$", re.MULTILINE)


@cache
def source(name: str) -> str:
    """The text of `name`.lua with its includes spliced in."""
    folder = resources.files(__package__)
    text = folder.joinpath(f"{name}.lua").read_text()
    return _INCLUDE.sub(lambda match: folder.joinpath("includes", f"{match[1]}.lua").read_text(), text)


def register(redis: aioredis.Redis, name: str) -> AsyncScript:
    """The script `name`.lua, bound to `redis` (EVALSHA, loading it on first use)."""
    return redis.register_script(source(name))
