"""What the Lua scripts answer, named once.

Each enum is written into the scripts that answer with it: a script's line
`-- @replies Enqueued` becomes `local Enqueued = {FULL = -1, ...}` (app/queue/lua), so
Lua and Python name the same codes the same way, as BullMQ's ErrorCode does for its scripts.
"""

from __future__ import annotations

from enum import IntEnum


class Enqueued(IntEnum):
    """enqueue.lua: {code, id, requests left, ms until the quota is whole (or admits one more)}."""

    FULL = -1  # the queue holds MAX_QUEUE_LENGTH messages: nothing written
    EXISTS = 0  # a record with this id exists: nothing pushed
    QUEUED = 1
    KEY_USED = 2  # the idempotency key was used before: the id is the earlier job's
    KEY_REUSED = 3  # the idempotency key was used before for another request: nothing written
    RATE_LIMITED = 4  # the tenant's requests per minute are spent: nothing written
    TOO_MANY_ACTIVE = 5  # the tenant has its most jobs queued or running: nothing written
    BUDGET_SPENT = 6  # the tenant's model tokens of the day are spent: nothing written


class Started(IntEnum):
    """start.lua, per message; an attempt number (>= 1) when it starts, or the type name of
    a record key that is not a hash."""

    NOT_HELD = -3  # its message is no longer on this worker's list (recovered while prefetched): nothing done
    EXPIRED = -2  # past its expiry before it started: ended `expired`, released, not run
    RUNNING_ELSEWHERE = -1  # another worker runs this job: nothing done (a duplicate)
    ALREADY_FINAL = 0  # a redelivery of an ended job: released, not run


class Ended(IntEnum):
    """fail.lua and retry.lua; complete.lua, per job."""

    TAKEN = -1  # recovered from this worker and started on another meanwhile: nothing written
    ALREADY_FINAL = 0  # only released: a job ends once
    ENDED = 1


class Moved(IntEnum):
    """bury.lua, requeue_dead.lua: whether the message was where the caller saw it."""

    GONE = 0  # already moved by someone else: nothing done
    MOVED = 1
    LIVE = 2  # requeue_dead: the job is queued or running (the entry is a duplicate's): nothing done


class Requeued(IntEnum):
    """requeue.lua answers how many messages it moved, or this."""

    WORKER_ALIVE = -1  # an orphan's heartbeat came back: nothing moved


class Cancelled(IntEnum):
    """cancel.lua."""

    UNKNOWN = -1  # no job record under this id (never was, or expired)
    ALREADY_FINAL = 0  # it ended before: nothing done
    CANCELLED = 1


ALL: tuple[type[IntEnum], ...] = (Enqueued, Started, Ended, Moved, Requeued, Cancelled)
