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

    async def claim(self, digest: str) -> tuple[bool, Summary | None]:
        """In one round trip, try to become the one that calls the model for `digest` and
        read its stored summary. (True, None): call it, then `release`. A summary: use it
        (and `release` if claimed). (False, None): another process is calling; try again."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._keys.cache_lock(digest), self.owner, px=self._lock_ms, nx=True)
            pipe.get(self._keys.cache(digest))
            claimed, raw = await pipe.execute()
        return bool(claimed), None if raw is None else _from_entry(raw)

    async def release(self, digest: str, summary: Summary | None) -> None:
        """In one round trip, store the summary made (None: none was) and give the lock up."""
        async with self._redis.pipeline(transaction=False) as pipe:
            if summary is not None:
                pipe.set(self._keys.cache(digest), _entry(summary), ex=self._ttl_s)
            await self._unlock(keys=[self._keys.cache_lock(digest)], args=[self.owner], client=pipe)
            await pipe.execute()


def _entry(summary: Summary) -> bytes:
    entry: dict[str, object] = {"text": summary.text, "model": summary.model, "truncated": summary.truncated}
    if summary.unhonoured:
        entry["unhonoured"] = list(summary.unhonoured)
    return orjson.dumps(entry)


def _from_entry(raw: bytes) -> Summary:
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
