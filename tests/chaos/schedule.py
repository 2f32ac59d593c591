"""The seeded fault schedule: which fault, when, on what. Pure, so a seed replays the same plan."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

WORKER_SLOTS = 3

# A kill -9's jobs must run again within 15 s; no Redis restart falls in that window, or the
# survivors' rule "after an outage, wait a heartbeat TTL before calling anyone dead" would be
# measured instead. After a Redis restart, the next kill waits out that TTL (9 s) too.
KILL_TO_REDIS_S = (20.0, 26.0)
REDIS_TO_KILL_S = (10.0, 14.0)
SIGTERM_EVERY_S = (10.0, 18.0)
NUISANCE_EVERY_S = (1.5, 4.0)


class Kind(StrEnum):
    KILL9 = "kill -9 worker"
    SIGTERM = "SIGTERM worker"
    REDIS = "restart redis"
    QUEUE_GARBAGE = "garbage on queue"
    DUPLICATES = "duplicate ids on queue"
    FOREIGN = "foreign jobs on queue"
    RESULT_GARBAGE = "garbage on result channels"


NUISANCES = (Kind.QUEUE_GARBAGE, Kind.DUPLICATES, Kind.FOREIGN, Kind.RESULT_GARBAGE)


@dataclass(frozen=True, slots=True)
class Fault:
    """One scheduled fault. `slot`: the worker aimed at; `signal`: how Redis is stopped;
    `pause_s`: a worker's restart delay or Redis's time down; `count`: messages in a burst;
    `index`: the fault's place in the plan, which seeds its payloads."""

    at_s: float
    kind: Kind
    index: int = 0
    slot: int = 0
    signal: str = ""
    pause_s: float = 0.0
    count: int = 0

    def describe(self) -> str:
        if self.kind in (Kind.KILL9, Kind.SIGTERM):
            return f"{self.kind} slot {self.slot}, restart after {self.pause_s:.1f} s"
        if self.kind is Kind.REDIS:
            return f"{self.kind} by SIG{self.signal}, down {self.pause_s:.1f} s"
        return f"{self.kind} x{self.count}"


def plan(seed: int, seconds: float) -> list[Fault]:
    """Every fault of a run of `seconds`, in time order. Kills of -9 and Redis restarts
    alternate (a kill first), spaced as above; SIGTERMs and nuisance bursts fall between."""
    rng = random.Random(seed)
    faults = _heavy(rng, seconds) + _sigterms(rng, seconds) + _nuisances(rng, seconds)
    faults.sort(key=lambda fault: fault.at_s)
    return [_numbered(fault, n) for n, fault in enumerate(faults)]


def _numbered(fault: Fault, index: int) -> Fault:
    return Fault(fault.at_s, fault.kind, index, fault.slot, fault.signal, fault.pause_s, fault.count)


def _heavy(rng: random.Random, seconds: float) -> list[Fault]:
    faults, at_s, kill_next = [], rng.uniform(3.0, 6.0), True
    while at_s < seconds - 3.0:
        if kill_next:
            faults.append(Fault(at_s, Kind.KILL9, slot=rng.randrange(WORKER_SLOTS), pause_s=rng.uniform(0.5, 3.0)))
            at_s += rng.uniform(*KILL_TO_REDIS_S)
        else:
            faults.append(Fault(at_s, Kind.REDIS, signal=rng.choice(("KILL", "TERM")), pause_s=rng.uniform(0.5, 3.0)))
            at_s += rng.uniform(*REDIS_TO_KILL_S)
        kill_next = not kill_next
    return faults


def _sigterms(rng: random.Random, seconds: float) -> list[Fault]:
    faults, at_s = [], rng.uniform(8.0, 12.0)
    while at_s < seconds - 3.0:
        faults.append(Fault(at_s, Kind.SIGTERM, slot=rng.randrange(WORKER_SLOTS), pause_s=rng.uniform(0.5, 3.0)))
        at_s += rng.uniform(*SIGTERM_EVERY_S)
    return faults


def _nuisances(rng: random.Random, seconds: float) -> list[Fault]:
    faults, at_s = [], rng.uniform(0.5, 2.0)
    while at_s < seconds - 1.0:
        faults.append(Fault(at_s, rng.choice(NUISANCES), count=rng.randint(1, 4)))
        at_s += rng.uniform(*NUISANCE_EVERY_S)
    return faults
