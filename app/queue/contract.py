"""The Redis wire contract's names: every key of a queue, job status and priority, the wake
token. Pure, no I/O. (The message codec is app/queue/message.py; records and events,
app/queue/record.py.)"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# A job id other producers may choose: printable, no spaces, short enough to be a key.
JOB_ID_RE: Final = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


class Mode(StrEnum):
    """How a job's model call is made: at once, or in a Gemini batch (half the price, within 24 h)."""

    INTERACTIVE = "interactive"
    BATCH = "batch"


# The pseudo-worker of a batch is `batch:<id>`: its processing list holds the batch's jobs.
BATCH_WORKER_PREFIX: Final = "batch:"


# A message's `trace`: the W3C traceparent (version-traceid-spanid-flags) of the request that made it.
TRACEPARENT_RE: Final = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


# A tenant's name (app/tenants.py): a message without one belongs to DEFAULT_TENANT.
TENANT_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


DEFAULT_TENANT: Final = "default"


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # not started before its expiry: ended without a model call
    CANCELLED = "cancelled"  # called back by its client (DELETE /jobs/{id}): ended, never (again) run

    @property
    def final(self) -> bool:
        return self in (Status.DONE, Status.FAILED, Status.EXPIRED, Status.CANCELLED)


class Priority(StrEnum):
    """Which lane a job waits in: a worker starts the most urgent waiting job (app/queue/lua/reserve.lua)."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# Most urgent first: the order in which reserve.lua serves the lanes.
PRIORITIES: Final = (Priority.HIGH, Priority.NORMAL, Priority.LOW)


# While normal (or low) jobs wait, at least one start in this many is one of theirs: the bound on
# their starvation under a flood of more urgent work (app/queue/lua/reserve.lua).
LOW_SHARE_EVERY: Final = 20


# What a producer into a lane other than the queue list pushes onto the (empty) queue list so a
# worker blocked on it (BLMOVE) wakes and looks at every lane. It is no job: reserve drops it.
WAKE: Final = b'{"wake":1}'


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key of one queue. All but the queue list carry the hash tag {queue}
    so multi-key scripts stay in one slot (and run on Redis Cluster); the queue
    list's own name hashes to that same slot."""

    queue: str
    channel: str

    @property
    def tag(self) -> str:
        return "{" + self.queue + "}"

    @property
    def workers(self) -> str:
        return f"{self.tag}:workers"

    @property
    def delayed(self) -> str:
        return f"{self.tag}:delayed"

    @property
    def dead(self) -> str:
        return f"{self.tag}:dead"

    @property
    def dead_written(self) -> str:
        """How many entries the dead list was ever given (includes/push_dead.lua)."""
        return f"{self.dead}:written"

    def job(self, job_id: str) -> str:
        return f"{self.tag}:job:{job_id}"

    def processing(self, worker_id: str) -> str:
        return f"{self.tag}:processing:{worker_id}"

    def heartbeat(self, worker_id: str) -> str:
        return f"{self.tag}:worker:{worker_id}"

    @property
    def totals(self) -> str:
        """Counts of transitions (enqueued, done, failed, retried, recovered) and model usage."""
        return f"{self.tag}:totals"

    @property
    def recent(self) -> str:
        """The ids of the newest jobs enqueued through the API (at most 100)."""
        return f"{self.tag}:recent"

    @property
    def progress_channel(self) -> str:
        return f"{self.channel}:progress"

    def stream(self, job_id: str) -> str:
        return f"{self.tag}:stream:{job_id}"

    def cache(self, digest: str) -> str:
        return f"{self.tag}:cache:{digest}"

    def cache_lock(self, digest: str) -> str:
        return f"{self.tag}:cache-lock:{digest}"

    def limit(self, model: str) -> str:
        """A model's shared call schedule. Per queue, like every key, so a queue keeps to
        one hash slot (one Redis Cluster node); queues sharing a quota split it in settings."""
        return f"{self.tag}:limit:{model}"

    def cool_down(self, model: str) -> str:
        return f"{self.tag}:cool-down:{model}"

    def idempotency(self, tenant: str, key: str) -> str:
        """An Idempotency-Key of one tenant: two tenants' equal keys are two keys. Hashed:
        the client's key may be long or hold any bytes; ours stays short and safe."""
        scoped = key if tenant == DEFAULT_TENANT else f"{tenant}\0{key}"  # a default key keeps its old name
        return f"{self.tag}:idem:{hashlib.sha256(scoped.encode()).hexdigest()}"

    @property
    def tenants(self) -> str:
        """The names of the tenants that have had jobs (the admin's breakdown in /stats)."""
        return f"{self.tag}:tenants"

    def tenant(self, name: str) -> str:
        """One tenant's numbers: the counts and usage of `totals`, and `active` (queued or running)."""
        return f"{self.tag}:tenant:{name}"

    @property
    def batch_groups(self) -> str:
        """The groups (model and options) with batch jobs waiting; score: since when the oldest waits."""
        return f"{self.tag}:batch-groups"

    def batch_waiting(self, group: str) -> str:
        """One group's batch jobs waiting to be collected into a batch."""
        return f"{self.tag}:batch-waiting:{group}"

    @property
    def batches(self) -> str:
        """The batches in flight; score: when each is due for its next poll."""
        return f"{self.tag}:batches"

    def batch(self, batch_id: str) -> str:
        return f"{self.tag}:batch:{batch_id}"

    @property
    def batch_lease(self) -> str:
        """Which worker collects batch jobs into batches (one at a time)."""
        return f"{self.tag}:batch-lease"

    @property
    def webhooks(self) -> str:
        """The webhook outbox: ids of ended jobs whose callback is to be delivered, scored by
        when the next attempt is due (a delivery in progress: when its lease runs out)."""
        return f"{self.tag}:webhooks"

    @property
    def webhooks_dead(self) -> str:
        """Deliveries given up after WEBHOOK_MAX_ATTEMPTS (or whose record expired), by when."""
        return f"{self.tag}:webhooks:dead"

    def lane(self, priority: str, tenant: str) -> str:
        """The list a tenant's jobs of one priority wait in. The default tenant's normal jobs wait
        in the queue list itself, where a foreign producer's `LPUSH job_queue` puts them."""
        if priority == Priority.NORMAL and tenant == DEFAULT_TENANT:
            return self.queue
        return f"{self.lane_prefix}{priority}:{tenant}"

    @property
    def lane_prefix(self) -> str:
        """reserve.lua names the lanes it serves from this, the priority and the tenant."""
        return f"{self.tag}:lane:"

    def ring(self, priority: str) -> str:
        """The tenants with jobs waiting at one priority, each scored by the jobs it has been
        given over its weight: the least served goes next (fair share, app/queue/lua/reserve.lua)."""
        return f"{self.tag}:ring:{priority}"

    @property
    def rings(self) -> list[str]:
        return [self.ring(priority) for priority in PRIORITIES]

    @property
    def weights(self) -> str:
        """Each tenant's share of free slots (its `weight`, when not 1), as intake last saw it."""
        return f"{self.tag}:weights"

    @property
    def schedule(self) -> str:
        """reserve.lua's memory between calls: starts since a waiting low job last got one."""
        return f"{self.tag}:schedule"

    @property
    def control_channel(self) -> str:
        """Where cancel.lua names a running job to cancel, for the worker that holds it."""
        return f"{self.channel}:control"

    def listen(self, job_id: str) -> str:
        """Exists while an event stream follows the job: a job started then streams its summary."""
        return f"{self.tag}:listen:{job_id}"

    def tenant_recent(self, name: str) -> str:
        """The ids of a tenant's newest jobs enqueued through the API (at most 100)."""
        return f"{self.tag}:recent:{name}"

    def rate(self, name: str) -> str:
        """A tenant's request schedule at intake (GCRA: the theoretical arrival time, ms)."""
        return f"{self.tag}:rate:{name}"

    def spent(self, name: str, day: str) -> str:
        """The model tokens a tenant's jobs used on a UTC day (YYYY-MM-DD)."""
        return f"{self.tag}:spent:{name}:{day}"

    def spent_cost(self, name: str, day: str) -> str:
        """What a tenant's jobs cost on a UTC day, USD (at the prices set: GEMINI_PRICE*)."""
        return f"{self.tag}:spent-cost:{name}:{day}"


def is_final(record: Mapping[str, object]) -> bool:
    """The record is of a job that has ended (done or failed)."""
    status = record.get("status")
    return isinstance(status, str) and status in _FINAL


_FINAL: Final = frozenset(status.value for status in Status if status.final)
