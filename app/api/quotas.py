"""A tenant's quotas at intake as HTTP says them: 429 problems with Retry-After, and the IETF
RateLimit-Policy / RateLimit headers (draft-ietf-httpapi-ratelimit-headers)."""

from __future__ import annotations

import hashlib
import math

import orjson

from app.api.problems import Problem
from app.options import Options
from app.queue.producer import Admission, KeyReused, OverQuota, Quota
from app.queue.replies import Enqueued

TOO_MANY = "Too Many Requests"


def fingerprint(
    text: str,
    options: Options,
    priority: str = "normal",
    expires_in: float | None = None,
    mode: str = "interactive",
    callback_url: str = "",
) -> str:
    """What an Idempotency-Key stands for: the same key with another request is refused. A request
    with neither priority, expiry, batch mode nor callback hashes as before they existed (keys stored
    then still match)."""
    body: list[object] = [text, options.to_dict()]
    if priority != "normal" or expires_in is not None:
        body += [priority, expires_in]
    if mode != "interactive":
        body.append(mode)
    if callback_url:
        body.append(callback_url)
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


# A job refused while the tenant has its most jobs queued or running: look again after this.
ACTIVE_RETRY_S = 5


def rate_headers(quota: Quota, admitted: Admission) -> dict[str, str]:
    """The tenant's request quota after this request: on a job it charged (accepted) or
    refused for the rate; none on other answers, which were not charged."""
    if not quota.requests_per_minute or admitted.left < 0:
        return {}
    return {
        "RateLimit-Policy": f'"requests";q={quota.requests_per_minute};w=60',
        "RateLimit": f'"requests";r={admitted.left};t={math.ceil(admitted.reset_ms / 1000)}',
    }


def refused_problem(refused: KeyReused | OverQuota, quota: Quota, headers: dict[str, str]) -> Problem:
    if isinstance(refused, KeyReused):
        detail = (
            f"this Idempotency-Key was used for another request (job {refused.job_id}): "
            "send a new key for a new request, or the same body to get that job"
        )
        return Problem(422, "idempotency-key-reused", "Unprocessable Content", detail, extra={"job_id": refused.job_id})
    retry_ms = refused.retry_after_ms or ACTIVE_RETRY_S * 1000
    retry_s = max(1, math.ceil(retry_ms / 1000))
    headers = headers | {"Retry-After": str(retry_s)}
    if refused.kind is Enqueued.RATE_LIMITED:
        detail = f"your tenant's {quota.requests_per_minute} requests a minute are spent; nothing was enqueued"
        return Problem(429, "rate-limited", TOO_MANY, detail, headers, {"retry_after_s": retry_s})
    if refused.kind is Enqueued.TOO_MANY_ACTIVE:
        headers |= {"RateLimit-Policy": f'"active-jobs";q={quota.max_active_jobs}'}
        detail = (
            f"your tenant has {quota.max_active_jobs} jobs queued or running, its most; "
            "nothing was enqueued: retry when some have ended"
        )
        return Problem(429, "too-many-active-jobs", TOO_MANY, detail, headers, {"retry_after_s": retry_s})
    budgets = []
    if quota.daily_tokens:
        headers |= {"RateLimit-Policy": f'"daily-tokens";q={quota.daily_tokens};w=86400'}
        budgets.append(f"{quota.daily_tokens} model tokens")
    if quota.daily_cost_usd:
        budgets.append(f"{quota.daily_cost_usd:g} USD")
    detail = f"your tenant's daily budget ({' or '.join(budgets)}, UTC) is spent; it resets in {retry_s} s"
    return Problem(429, "budget-spent", TOO_MANY, detail, headers, {"retry_after_s": retry_s})
