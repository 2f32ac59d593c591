"""The soak's clients: HTTP submitters that wait, poll or stream, and a result-channel listener.

Everything they learn goes to the `Ledger`: which job ids were accepted (a 202 or a 200 from
POST /process), what the clients saw, and the finished-job events heard on the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from tests.helpers import read_events

FINAL = frozenset({"done", "failed", "cancelled"})
PRIORITIES = ("high", "normal", "normal", "normal", "low")
CANCEL_SHARE = 0.1  # of the jobs submitted, those their client cancels after a while
# Texts several jobs share: the result cache and its cross-process single flight get work.
REPEATED_TEXTS = tuple(
    f"Repeated text {n}. Redis lists make simple queues; workers move each message to a processing list "
    f"while they hold it, so nothing is lost when one dies. Copy {n} of a dozen."
    for n in range(12)
)
WORDS = ("queue", "worker", "redis", "message", "summary", "model", "retry", "heartbeat", "cache", "quota")


@dataclass
class Ledger:
    """What the harness knows: accepted ids (with how each came), garbage it expects on the
    dead list, finished-job events heard, and anything a client saw that it should not."""

    accepted: dict[str, str] = field(default_factory=dict)  # id -> source
    texts: dict[str, str] = field(default_factory=dict)  # id -> text (for duplicates of API jobs)
    garbage: dict[str, str] = field(default_factory=dict)  # raw message -> kind
    events: Counter[str] = field(default_factory=Counter)  # id -> done/failed/cancelled events heard
    cancelled: set[str] = field(default_factory=set)  # ids whose DELETE answered 200
    clients: Counter[str] = field(default_factory=Counter)  # what the clients did and saw
    anomalies: list[str] = field(default_factory=list)

    def accept(self, job_id: str, source: str, text: str) -> None:
        self.accepted.setdefault(job_id, source)
        self.texts.setdefault(job_id, text)

    def anomaly(self, what: str) -> None:
        self.anomalies.append(what)


def job_text(rng: random.Random, n: int) -> str:
    if rng.random() < 0.35:
        return rng.choice(REPEATED_TEXTS)
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))
    return f"Chaos job {n}. {words}."


class Clients:
    """`count` submitters, each submitting at random intervals (mean `mean_gap_s`) through a
    random API, then following its job one of three ways until it ends or `stop` is set."""

    def __init__(self, ledger: Ledger, api_ports: list[int], seed: int, count: int = 6, mean_gap_s: float = 1.1):
        self.ledger = ledger
        self.bases = [f"http://127.0.0.1:{port}" for port in api_ports]
        self.rng = random.Random(f"{seed}:clients")
        self.count = count
        self.mean_gap_s = mean_gap_s
        self.submitting = asyncio.Event()  # cleared: submitters stop; followers go on
        self.stop = asyncio.Event()  # set: followers stop too
        self._jobs: set[asyncio.Task[None]] = set()
        self._submitted = 0

    async def run(self, http: aiohttp.ClientSession) -> None:
        self.submitting.set()
        async with asyncio.TaskGroup() as group:
            for _ in range(self.count):
                group.create_task(self._submitter(http))
        await self.stop.wait()
        await self.close()

    async def close(self) -> None:
        for task in self._jobs:
            task.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)

    async def _submitter(self, http: aiohttp.ClientSession) -> None:
        while self.submitting.is_set():
            await asyncio.sleep(min(8.0, self.rng.expovariate(1 / self.mean_gap_s)))
            if not self.submitting.is_set():
                return
            self._submitted += 1
            text, mode = job_text(self.rng, self._submitted), self.rng.choice(("poll", "wait", "sse"))
            base, body = self.rng.choice(self.bases), {"text": text, "priority": self.rng.choice(PRIORITIES)}
            cancel_after_s = self.rng.uniform(0, 3) if self.rng.random() < CANCEL_SHARE else None
            task = asyncio.create_task(self._job(http, base, body, mode, self.rng.randint(1, 10), cancel_after_s))
            self._jobs.add(task)
            task.add_done_callback(self._jobs.discard)

    async def _job(
        self,
        http: aiohttp.ClientSession,
        base: str,
        body: dict[str, str],
        mode: str,
        wait_s: int,
        cancel_after_s: float | None,
    ) -> None:
        try:
            record = await self._submit(http, base, body, wait_s if mode == "wait" else 0)
            if record is None:
                return
            job_id = str(record["id"])
            self.ledger.accept(job_id, f"api-{mode}", body["text"])
            if cancel_after_s is not None:
                canceller = asyncio.create_task(self._cancel(http, base, job_id, cancel_after_s))
                self._jobs.add(canceller)
                canceller.add_done_callback(self._jobs.discard)
            if record.get("status") in FINAL:
                self.ledger.clients["ends seen by ?wait"] += 1
                return
            if mode == "sse":
                await self._stream(http, base, job_id)
            else:
                await self._poll(http, base, job_id)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.ledger.clients[f"client error: {type(exc).__name__}"] += 1
        except Exception as exc:  # a task boundary: one client's surprise is reported, not fatal
            self.ledger.anomaly(f"client crashed on a {mode} job: {exc!r}")

    async def _cancel(self, http: aiohttp.ClientSession, base: str, job_id: str, after_s: float) -> None:
        """DELETE the job after `after_s`: 200 (cancelled) or 409 (it had ended); 503 is tried again."""
        await asyncio.sleep(after_s)
        for _ in range(5):
            async with http.delete(f"{base}/jobs/{job_id}") as response:
                self.ledger.clients[f"DELETE /jobs/{{id}} {response.status}"] += 1
                if response.status == 200:
                    self.ledger.cancelled.add(job_id)
                    return
                if response.status != 503:
                    if response.status != 409:
                        self.ledger.anomaly(f"DELETE /jobs/{job_id} answered {response.status}")
                    return
            await asyncio.sleep(0.5)

    async def _submit(
        self, http: aiohttp.ClientSession, base: str, body: dict[str, str], wait_s: int
    ) -> dict[str, object] | None:
        """The 202/200 body, or None when not accepted (503 through a Redis outage, up to 5 tries)."""
        for _ in range(5):
            async with http.post(f"{base}/process?wait={wait_s}", json=body) as response:
                if response.status in (200, 202):
                    return await response.json()
                self.ledger.clients[f"POST /process {response.status}"] += 1
                if response.status != 503:
                    self.ledger.anomaly(f"POST /process answered {response.status}: {(await response.text())[:200]}")
                    return None
            await asyncio.sleep(0.5)
        return None

    async def _poll(self, http: aiohttp.ClientSession, base: str, job_id: str) -> None:
        while not self.stop.is_set():
            async with http.get(f"{base}/jobs/{job_id}?wait=5") as response:
                if response.status == 200:
                    if (await response.json()).get("status") in FINAL:
                        self.ledger.clients["ends seen by polling"] += 1
                        return
                    continue
                self.ledger.clients[f"GET /jobs/{{id}} {response.status}"] += 1
                if response.status != 503:
                    self.ledger.anomaly(f"GET /jobs/{job_id} answered {response.status} for an accepted job")
                    return
            await asyncio.sleep(0.5)

    async def _stream(self, http: aiohttp.ClientSession, base: str, job_id: str) -> None:
        """Follow the job's events, reconnecting with Last-Event-ID, until its final event."""
        last_id = ""
        while not self.stop.is_set():
            headers = {"Last-Event-ID": last_id} if last_id else {}
            async with http.get(f"{base}/jobs/{job_id}/events", headers=headers) as response:
                if response.status == 200:
                    events = await read_events(response)
                    last_id = next((e.id for e in reversed(events) if e.id), last_id)
                    if events and events[-1].event in FINAL:
                        self.ledger.clients["ends seen by streaming"] += 1
                        return
                    self.ledger.clients["streams resumed"] += 1
                elif response.status == 204:
                    return
                else:
                    self.ledger.clients[f"GET /jobs/{{id}}/events {response.status}"] += 1
                    if response.status != 503:
                        self.ledger.anomaly(f"GET /jobs/{job_id}/events answered {response.status} for an accepted job")
                        return
            await asyncio.sleep(0.3)


async def listen_for_results(redis_url: str, channel: str, ledger: Ledger, stop: asyncio.Event) -> None:
    """Count done/failed events per id on `channel`, resubscribing across Redis restarts.
    Events published while the subscription is down are missed: the count is an upper bound."""
    while not stop.is_set():
        client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=2, health_check_interval=2)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(channel)
            while not stop.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is not None:
                    _count_event(message["data"], ledger)
        except (RedisError, OSError):
            ledger.clients["result subscription resubscribed"] += 1
            await asyncio.sleep(0.2)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
            await client.aclose()


def _count_event(data: bytes, ledger: Ledger) -> None:
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError:
        return  # our own garbage
    if isinstance(event, dict) and isinstance(event.get("id"), str) and event.get("status") in FINAL:
        ledger.events[event["id"]] += 1
