"""Delivering webhooks: each worker takes the due deliveries from the outbox, sends each job's
ending signed per the Standard Webhooks spec (the `standardwebhooks` package), and writes the
outcome. At least once: a delivery is taken under a lease, so a worker killed mid-delivery only
delays it; receivers deduplicate by `webhook-id`, which is the same on every attempt."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import socket
import time
from datetime import UTC, datetime
from typing import Final

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver, ResolveResult
from standardwebhooks import Webhook

from app.config import Settings
from app.connection.errors import RETRY_LATER
from app.metrics import Metrics
from app.queue.reads import Reads
from app.queue.webhooks import Claimed, Outbox, Settled
from app.webhooks.dns import lookup
from app.webhooks.targets import AllowList, TargetRefused, allow_list

log = logging.getLogger(__name__)

# How often a worker looks for due deliveries (the most a delivery waits past its time), and
# how many it takes at once.
POLL_S: Final = 0.25
CLAIM_MOST: Final = 50
# A delivery taken is due again (for another worker) this long after its attempt's timeout.
LEASE_SLACK_S: Final = 5.0
# At a stop, deliveries under way get this long (well within the worker's LOOPS_END_S); the rest are
# sent again by another worker when their lease runs out.
STOP_GRACE_S: Final = 2.0
# After a claim that failed for an unexpected reason, the next waits longer, up to this.
MAX_PAUSE_S: Final = 10.0
# The delivery state is the outbox's and the record's; the body carries the job's ending only.
_STATE_FIELDS: Final = frozenset(
    {"webhook", "webhook_attempts", "webhook_error", "webhook_next_at", "webhook_delivered_at"}
)


class GuardedResolver(AbstractResolver):
    """Resolves on the webhook lookup threads (app/webhooks/dns.py), then keeps only the addresses
    the allow list lets the host reach: a name that resolves to an internal address (or starts to,
    later) is refused at connect time, on the addresses the connection would use."""

    def __init__(self, allow: AllowList) -> None:
        self._allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        kept, refused = [], ""
        for found_family, address in await lookup(host, port, family):
            try:
                self._allow.check_address(host, port, address)
            except TargetRefused as exc:
                refused = str(exc)
                continue
            kept.append(
                ResolveResult(
                    hostname=host, host=address, port=port, family=found_family, proto=0, flags=socket.AI_NUMERICHOST
                )
            )
        if not kept:
            # (errno, text): aiohttp shows an OSError's strerror in the error it raises
            raise OSError(errno.EACCES, refused or f"{host!r} did not resolve")
        return kept

    async def close(self) -> None:
        return None


def body(record: dict[str, object]) -> bytes:
    """The payload, in the spec's recommended shape: `type`, `timestamp` (when the job ended: the
    event's time, the same on every attempt), and the job record without the delivery's own state."""
    data = {name: value for name, value in record.items() if name not in _STATE_FIELDS}
    finished_at = record.get("finished_at")
    when = datetime.fromtimestamp(finished_at if isinstance(finished_at, float) else time.time(), UTC)
    return orjson.dumps({"type": f"job.{record.get('status')}", "timestamp": when.isoformat(), "data": data})


def webhook_id(job_id: str, record: dict[str, object]) -> str:
    """One message per ending: the same on every attempt of it, another if the job ends again (run
    anew from the dead list), so a receiver deduplicating by it drops repeats, never news."""
    finished_at = record.get("finished_at")
    return f"msg_{job_id}_{round(finished_at * 1000) if isinstance(finished_at, float) else 0}"


def backoff_s(attempt: int, base_s: float, cap_s: float) -> float:
    """Doubling, capped, with the upper half jittered so a receiver that was down is not met by a herd."""
    delay = min(cap_s, base_s * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


class Deliverer:
    def __init__(
        self, outbox: Outbox, reads: Reads, settings: Settings, secrets: dict[str, str], metrics: Metrics
    ) -> None:
        self._outbox, self._reads = outbox, reads
        self._settings = settings
        self._allow = allow_list(settings.webhook_allowed_hosts)
        self._signers = {tenant: Webhook(secret) for tenant, secret in secrets.items()}
        self._signer = Webhook(settings.webhook_secret) if settings.webhook_secret else None
        self._metrics = metrics
        self._lease_s = settings.webhook_timeout_s + LEASE_SLACK_S
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until `stopping`; deliveries under way then get STOP_GRACE_S to finish, and the rest are
        dropped unsettled (their lease runs out and another worker sends them)."""
        timeout = aiohttp.ClientTimeout(total=self._settings.webhook_timeout_s)
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._allow), limit=CLAIM_MOST)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            try:
                await self._claim_loop(session, stopping)
            finally:
                if self._sending:
                    await asyncio.wait(self._sending, timeout=STOP_GRACE_S)
                for task in list(self._sending):
                    task.cancel()
                await asyncio.gather(*self._sending, return_exceptions=True)  # before the session closes

    async def _claim_loop(self, session: aiohttp.ClientSession, stopping: asyncio.Event) -> None:
        pause_s = POLL_S
        while not stopping.is_set():
            try:
                room = CLAIM_MOST - len(self._sending)
                for claimed in await self._outbox.claim(self._lease_s, room) if room > 0 else []:
                    if claimed.attempt == 0:
                        self._lost(claimed.job_id)
                        continue
                    task = asyncio.create_task(self._deliver(session, claimed))
                    self._sending.add(task)
                    task.add_done_callback(self._sending.discard)
                pause_s = POLL_S
            except RETRY_LATER:  # Redis away: the next tick tries again
                pass
            except Exception:  # webhooks are optional: a fault here must never stop the worker's jobs
                log.exception("webhook claim failed; trying again", extra={"retry_in_s": pause_s})
                pause_s = min(pause_s * 2, MAX_PAUSE_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), pause_s)

    def _lost(self, job_id: str) -> None:
        self._metrics.webhooks.labels("dead").inc()
        fix = "keep records longer than a delivery's retries (RESULT_TTL)"
        log.error("webhook given up: its job record expired", extra={"job_id": job_id, "fix": fix})

    async def _deliver(self, session: aiohttp.ClientSession, claimed: Claimed) -> None:
        job_id = claimed.job_id
        try:
            record = await self._reads.get_job(job_id)  # the body: the record as GET /jobs/{id} shows it
            error = await self._send(session, job_id, record) if record is not None else "its job record expired"
            await self._settle(claimed, error, final=record is None or error.startswith("refused:"))
        except RETRY_LATER as exc:  # the outcome not written: the lease runs out and it is sent again
            log.warning("webhook outcome not written", extra={"job_id": job_id, "error": repr(exc)})
        except Exception:  # a task boundary: one delivery's bug must not end the others
            log.exception("webhook delivery failed unexpectedly", extra={"job_id": job_id})

    async def _send(self, session: aiohttp.ClientSession, job_id: str, record: dict[str, object]) -> str:
        """One attempt; '' when the receiver took it, else what went wrong ('refused: ...' for good)."""
        signer = self._signers.get(str(record.get("tenant")), self._signer)
        if signer is None:
            return "refused: no signing secret: set WEBHOOK_SECRET (or the tenant's webhook_secret)"
        try:
            url = self._allow.check_url(str(record.get("callback_url", "")))
        except TargetRefused as exc:
            return f"refused: callback_url {exc}"
        payload, message_id, now = body(record), webhook_id(job_id, record), datetime.now(UTC)
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(message_id, now, payload.decode()),
            "content-type": "application/json",
            "user-agent": "summarize-queue-webhooks",
        }
        try:
            # The answer's status is all that counts: its body is never read (a receiver may send anything).
            async with session.post(url, data=payload, headers=headers, allow_redirects=False) as response:
                return "" if 200 <= response.status < 300 else f"the receiver answered HTTP {response.status}"
        except TimeoutError:
            return f"no answer within {self._settings.webhook_timeout_s:g} s (WEBHOOK_TIMEOUT)"
        except (aiohttp.ClientError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"[:500]

    async def _settle(self, claimed: Claimed, error: str, *, final: bool) -> None:
        settings, facts = self._settings, {"job_id": claimed.job_id, "attempt": claimed.attempt}
        if not error:
            await self._outbox.settle(claimed, Settled.DELIVERED)
            self._metrics.webhooks.labels("delivered").inc()
            log.info("webhook delivered", extra=facts)
        elif final or claimed.attempt >= settings.webhook_max_attempts:
            if await self._outbox.settle(claimed, Settled.DEAD, error=error):
                self._metrics.webhooks.labels("dead").inc()
                fix = "fix the receiver, then: summarize-queue webhooks resend " + claimed.job_id
                log.error("webhook given up", extra=facts | {"error": error, "fix": fix})
        else:
            delay = backoff_s(claimed.attempt, settings.webhook_backoff_s, settings.webhook_backoff_max_s)
            if await self._outbox.settle(claimed, Settled.RETRY, delay_s=delay, error=error, lease_s=self._lease_s):
                self._metrics.webhooks.labels("failed").inc()
                log.warning("webhook attempt failed", extra=facts | {"error": error, "retry_in_s": round(delay, 2)})
