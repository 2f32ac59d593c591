"""GET /jobs/{id} (with ?wait=), DELETE /jobs/{id} and GET /jobs: a job's record, calling a job
back, and the newest jobs."""

from __future__ import annotations

import logging
import re

from aiohttp import web

from app.api.limits import tenant_wait
from app.api.problems import Problem, job_not_found
from app.api.resources import HUB, QUEUE
from app.api.responses import json_response
from app.api.security import tenant_of
from app.queue.contract import DEFAULT_TENANT, JOB_ID_RE, is_final
from app.queue.follow import until_final
from app.queue.reads import Record
from app.queue.replies import Cancelled

log = logging.getLogger(__name__)

MAX_WAIT_S = 60.0
# ASCII digits only: str.isdigit() also takes superscripts and circled digits, which int() refuses.
LIMIT_RE = re.compile(r"[0-9]{1,3}")


def wait_seconds(request: web.Request) -> float:
    """?wait=S: how long to hold the request for the job to end (0 when absent)."""
    raw = request.query.get("wait")
    if raw is None:
        return 0.0
    try:
        wait_s = float(raw)
    except ValueError:
        wait_s = -1.0
    if not 0 <= wait_s <= MAX_WAIT_S:  # also rejects nan
        raise Problem(400, "invalid-wait", "Bad Request", f"wait={raw!r}: expected seconds from 0 to {MAX_WAIT_S:g}")
    return wait_s


async def read_job(request: web.Request, job_id: str, wait_s: float) -> Record | None:
    """The record now, or once final within `wait_s` (unless the caller's tenant holds its share
    of waiting requests: then now). None for an unknown id."""
    queue = request.app[QUEUE]
    if wait_s > 0:
        with tenant_wait(request) as may_wait:
            if may_wait:
                return await until_final(queue.reads, request.app[HUB], job_id, wait_s)
    return await queue.reads.get_job(job_id)


def visible(request: web.Request, record: Record | None) -> Record | None:
    """The record if the caller's tenant may see it; another tenant's job is as unknown as
    one that never was (404, not 403: its existence is not for others to learn)."""
    if record is None or not tenant_of(request).sees(str(record.get("tenant", DEFAULT_TENANT))):
        return None
    return record


async def get_job(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    wait_s = wait_seconds(request)
    record = None
    if JOB_ID_RE.fullmatch(job_id):
        # Whose job it is, before any waiting: another tenant's is a 404 at once.
        record = visible(request, await request.app[QUEUE].reads.get_job(job_id))
        if record is not None and wait_s > 0 and not is_final(record):
            record = await read_job(request, job_id, wait_s)
    if record is None:
        raise job_not_found(job_id)
    return json_response(record)


async def cancel_job(request: web.Request) -> web.Response:
    """Cancel a job of the caller's tenant: 200 with its `cancelled` record, 409 if it had ended."""
    job_id = request.match_info["job_id"]
    queue = request.app[QUEUE]
    record = visible(request, await queue.reads.get_job(job_id)) if JOB_ID_RE.fullmatch(job_id) else None
    if record is None:
        raise job_not_found(job_id)
    outcome, ended = await queue.producer.cancel(job_id, record)
    if outcome == Cancelled.UNKNOWN or ended is None:
        raise job_not_found(job_id)
    if outcome == Cancelled.ALREADY_FINAL:
        status = ended.get("status")
        detail = f"job {job_id!r} has already ended {status}: there is nothing to cancel"
        raise Problem(409, "job-ended", "Conflict", detail, extra={"job_status": status})
    log.info("job cancelled", extra={"job_id": job_id, "tenant": record.get("tenant"), "was": record.get("status")})
    return json_response(ended)


async def list_jobs(request: web.Request) -> web.Response:
    """The newest jobs enqueued through the API (`limit`, 1-100, default 20), newest first: the
    caller's tenant's, or every tenant's for an admin."""
    raw = request.query.get("limit", "20")
    if not LIMIT_RE.fullmatch(raw) or not 1 <= int(raw) <= 100:
        raise Problem(400, "invalid-limit", "Bad Request", f"limit={raw!r}: expected an integer from 1 to 100")
    tenant = tenant_of(request)
    reads = request.app[QUEUE].reads
    jobs = await reads.recent_jobs(int(raw), None if tenant.admin else tenant.name)
    return json_response({"jobs": jobs})
