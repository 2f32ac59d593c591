"""The Lua scripts of every multi-key transition; each file documents its KEYS, ARGV and reply."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript


def register(redis: aioredis.Redis, name: str) -> AsyncScript:
    """The script `name`.lua, bound to `redis` (EVALSHA, loading it on first use)."""
    return redis.register_script(resources.files(__package__).joinpath(f"{name}.lua").read_text())
