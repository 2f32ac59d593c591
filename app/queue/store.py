"""One queue: its Redis client, keys and limits, and the four audiences that use them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from app.config import body_limit
from app.queue import lua
from app.queue.batches import BatchStore
from app.queue.contract import Keys
from app.queue.dead import DeadLetters
from app.queue.message import COMPLETED_SLACK_BYTES
from app.queue.producer import Producer
from app.queue.reads import Reads
from app.queue.transitions import Transitions
from app.queue.webhooks import Outbox

if TYPE_CHECKING:
    from app.config import Settings


@dataclass(frozen=True, slots=True)
class Retention:
    """How much of what failed the dead list keeps: DEAD_MAX entries, DEAD_TTL seconds."""

    dead_max: int = 10_000
    dead_ttl_s: int = 7 * 86_400


class Queue:
    """One queue over one Redis client. It holds no job state; its audiences do the work:
    `producer` (enqueue), `transitions` (the worker's), `reads` (records, stats) and
    `dead` (the dead list, for operators)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        *,
        result_ttl_s: int = 86_400,
        blocking_move: bool = True,
        max_text_chars: int = 100_000,
        retention: Retention = Retention(),
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.result_ttl_s = result_ttl_s
        # A consumer holds foreign producers to the API's limits: the text, and the
        # message's size (what a request body of that text may take) before it is parsed.
        self.max_text_chars = max_text_chars
        self.max_message_bytes = body_limit(max_text_chars) + COMPLETED_SLACK_BYTES
        self.retention = retention
        # fakeredis's BLMOVE returns at once on an empty list; its BRPOPLPUSH (the
        # same move, RIGHT to LEFT) blocks, so the embedded server uses that.
        self.blocking_move = blocking_move

    @classmethod
    def from_settings(cls, redis: aioredis.Redis, settings: Settings, *, blocking_move: bool = True) -> Queue:
        return cls(
            redis,
            Keys(settings.queue_name, settings.result_channel),
            result_ttl_s=settings.result_ttl_s,
            blocking_move=blocking_move,
            max_text_chars=settings.max_text_chars,
            retention=Retention(settings.dead_max, settings.dead_ttl_s),
        )

    def script(self, name: str) -> lua.Script:
        return lua.register(self.redis, name)

    @cached_property
    def producer(self) -> Producer:
        return Producer(self)

    @cached_property
    def transitions(self) -> Transitions:
        return Transitions(self)

    @cached_property
    def batches(self) -> BatchStore:
        return BatchStore(self)

    @cached_property
    def reads(self) -> Reads:
        return Reads(self)

    @cached_property
    def dead(self) -> DeadLetters:
        return DeadLetters(self)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self)
