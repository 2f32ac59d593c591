"""The result cache: the same model, prompt version, options and text get the stored summary."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets

import orjson
import redis.asyncio as aioredis

from app import tasks
from app.connection.errors import RETRY_LATER
from app.model.summarizers.base import Summary
from app.options import Options
from app.queue import lua
from app.queue.contract import Keys
from app.queue.pipes import execute

log = logging.getLogger(__name__)


class ResultCache:
    """Summaries by a digest of everything that shapes them, for RESULT_CACHE_TTL seconds,
    and a lock per digest so that one worker of all calls the model for a text while the
    others wait for its answer (single flight across processes).

    A lock is a lease of `lease_s`, renewed every third of it while this process holds
    it: a holder that dies frees its texts within one lease, so the worker that recovers
    its jobs is not left waiting on a dead process's locks."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, ttl_s: int, lease_s: float) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_s = ttl_s
        self._lease_ms = max(1, round(lease_s * 1000))
        self._renew_every_s = lease_s / 3
        self._unlock = lua.register(redis, "cache_unlock")
        self._renew = lua.register(redis, "cache_renew")
        self.owner = secrets.token_hex(8)  # this process, as the holder of locks
        self._held: set[str] = set()  # digests whose lock this process holds
        self._renewer: asyncio.Task[None] | None = None
        self._closed = False

    @staticmethod
    def digest(cache_id: str, options: Options, text: str) -> str:
        return hashlib.sha256(orjson.dumps([cache_id, options.to_dict(), text])).hexdigest()

    async def claim(self, digest: str) -> tuple[bool, Summary | None]:
        """In one round trip, try to become the one that calls the model for `digest` and
        read its stored summary. (True, None): call it, then `release`. A summary: use it
        (and `release` if claimed). (False, None): another process is calling; try again."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._keys.cache_lock(digest), self.owner, px=self._lease_ms, nx=True)
            pipe.get(self._keys.cache(digest))
            claimed, raw = await pipe.execute()
        if claimed:
            self._hold(digest)
        return bool(claimed), None if raw is None else _from_entry(raw)

    async def lookup_many(self, digests: list[str]) -> list[Summary | None]:
        """The stored summary of each digest, claiming nothing, in one round trip (a batch's jobs
        ask before they join a batch)."""
        if not digests:
            return []
        found = await self._redis.mget([self._keys.cache(digest) for digest in digests])
        return [None if raw is None else _from_entry(raw) for raw in found]

    async def store_many(self, summaries: list[tuple[str, Summary]]) -> None:
        """Keep summaries made outside a claim (a batch's answers), in one round trip."""
        if not summaries:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for digest, summary in summaries:
                pipe.set(self._keys.cache(digest), _entry(summary), ex=self._ttl_s)
            await pipe.execute()

    async def release(self, digest: str, summary: Summary | None) -> None:
        """In one round trip, store the summary made (None: none was) and give the lock up."""
        self._held.discard(digest)
        if not self._held and self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        async with self._redis.pipeline(transaction=False) as pipe:
            if summary is not None:
                pipe.set(self._keys.cache(digest), _entry(summary), ex=self._ttl_s)
            await self._unlock(keys=[self._keys.cache_lock(digest)], args=[self.owner], client=pipe)
            await execute(pipe)  # it loads the script should Redis have lost it

    def _hold(self, digest: str) -> None:
        self._held.add(digest)
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_while_held(), name="cache-lease")

    async def _renew_while_held(self) -> None:
        """Every third of a lease, extend every lock held, in one round trip."""
        while self._held and not self._closed:
            await asyncio.sleep(self._renew_every_s)
            locks = [self._keys.cache_lock(digest) for digest in self._held]
            try:
                await self._renew(keys=locks, args=[self.owner, self._lease_ms])
            except RETRY_LATER as exc:
                # A lease that lapses costs at most a second call for its text, never a result.
                log.warning("cache locks not renewed: redis unreachable", extra={"error": repr(exc)})

    async def aclose(self) -> None:
        """Stop renewing (at shutdown: locks still held lapse within a lease)."""
        self._closed = True  # as well as the cancellation, which redis-py can swallow (app/tasks.py)
        await tasks.stop(self._renewer)
        self._renewer = None


def _entry(summary: Summary) -> bytes:
    entry: dict[str, object] = {"text": summary.text, "model": summary.model, "truncated": summary.truncated}
    if summary.unhonoured:
        entry["unhonoured"] = list(summary.unhonoured)
    return orjson.dumps(entry)


def _from_entry(raw: bytes) -> Summary | None:
    """The stored summary; None (a miss, overwritten by the next call) for an entry that
    is not one of ours."""
    try:
        data = orjson.loads(raw)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("text"), str)
            or not isinstance(data.get("model"), str)
        ):
            return None
    except orjson.JSONDecodeError:
        return None
    return Summary(
        text=data["text"],
        model=data["model"],
        prompt_tokens=0,
        output_tokens=0,
        truncated=data.get("truncated", False),
        unhonoured=tuple(data.get("unhonoured", ())),
        cached=True,
    )
