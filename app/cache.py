"""The result cache: the same model, prompt version, options and text get the stored summary."""

from __future__ import annotations

import hashlib
import secrets

import orjson
import redis.asyncio as aioredis

from app import lua
from app.options import Options
from app.protocol import Keys
from app.summarizers.base import Summary


class ResultCache:
    """Summaries by a digest of everything that shapes them, for RESULT_CACHE_TTL seconds,
    and a lock per digest so that one worker of all calls the model for a text while the
    others wait for its answer (single flight across processes)."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, ttl_s: int, lock_ttl_s: float) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_s = ttl_s
        self._lock_ms = max(1, round(lock_ttl_s * 1000))
        self._unlock = lua.register(redis, "cache_unlock")
        self.owner = secrets.token_hex(8)  # this process, as the holder of locks

    @staticmethod
    def digest(cache_id: str, options: Options, text: str) -> str:
        return hashlib.sha256(orjson.dumps([cache_id, options.to_dict(), text])).hexdigest()

    async def get(self, digest: str) -> Summary | None:
        raw = await self._redis.get(self._keys.cache(digest))
        if raw is None:
            return None
        data = orjson.loads(raw)
        return Summary(
            text=data["text"],
            model=data["model"],
            prompt_tokens=0,
            output_tokens=0,
            truncated=data.get("truncated", False),
            unhonoured=tuple(data.get("unhonoured", ())),
            cached=True,
        )

    async def put(self, digest: str, summary: Summary) -> None:
        entry = {"text": summary.text, "model": summary.model, "truncated": summary.truncated}
        if summary.unhonoured:
            entry["unhonoured"] = list(summary.unhonoured)
        await self._redis.set(self._keys.cache(digest), orjson.dumps(entry), ex=self._ttl_s)

    async def lock(self, digest: str) -> bool:
        """Become the one that calls the model for `digest`; False if another holds it."""
        return bool(await self._redis.set(self._keys.cache_lock(digest), self.owner, px=self._lock_ms, nx=True))

    async def unlock(self, digest: str) -> None:
        await self._unlock(keys=[self._keys.cache_lock(digest)], args=[self.owner])

    async def locked(self, digest: str) -> bool:
        return bool(await self._redis.exists(self._keys.cache_lock(digest)))
