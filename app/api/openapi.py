"""GET /openapi.json: the OpenAPI 3.1 description of every endpoint, body, response and error."""

from __future__ import annotations

from typing import Any

from app.config import MAX_EXPIRES_S, Settings
from app.options import FORMATS, MAX_OUTPUT_TOKENS, MAX_WORDS, MIN_OUTPUT_TOKENS, MIN_WORDS
from app.queue.contract import PRIORITIES, Mode, Status
from app.queue.record import RECORD_FIELDS

JSON = "application/json"
# Not blank, as the API sees it: a character Python's str.isspace() does not call space.
TEXT_PATTERN = "[^\\s\\x1c-\\x1f\\x85]|\\ufeff"
# Well-formed BCP 47 (the API also checks that the subtags are registered).
# Printable ASCII, 1-255 long; HTTP strips spaces at either end of a header value, so a key
# neither starts nor ends with one.
IDEMPOTENCY_KEY_PATTERN = "^[\\x21-\\x7e]([\\x20-\\x7e]{0,253}[\\x21-\\x7e])?$"
LANGUAGE_PATTERN = "^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$"
# "end", or a stream entry id as Redis writes them (19 digits each part stays below 2**64).
LAST_EVENT_ID_PATTERN = "^(end|[0-9]{1,19}-[0-9]{1,19})?$"
PROBLEM = "application/problem+json"


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}
    if headers:
        response["headers"] = headers
    return response


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


RATE_LIMITED_HEADERS = {
    "Retry-After": {"description": "seconds until the quota admits the request", "schema": {"type": "integer"}},
    "RateLimit-Policy": {"description": "the quota (IETF RateLimit headers draft)", "schema": {"type": "string"}},
    "RateLimit": {"description": "what is left of it, and when it resets", "schema": {"type": "string"}},
}
UNAUTHORIZED = _problem("API_KEYS is set and no valid 'Authorization: Bearer <key>' came", {"WWW-Authenticate": {}})
REDIS_DOWN = _problem(
    "Redis is unreachable (/problems/redis-unavailable) or full (/problems/redis-full): retry after Retry-After s",
    {"Retry-After": {}},
)
WAIT = {
    "name": "wait",
    "in": "query",
    "description": "hold the request up to this many seconds for the job to end",
    "schema": {"type": "number", "minimum": 0, "maximum": 60},
}
JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
}
LOCATION = {"Location": {"description": "/jobs/{id}", "schema": {"type": "string"}}}


def _record_properties() -> dict[str, Any]:
    """The Job schema's fields, from the one table the record decoder reads them by."""
    properties: dict[str, Any] = {name: {"type": kind} for name, kind in RECORD_FIELDS.items()}
    properties["status"] = {"enum": [status.value for status in Status]}
    properties["unhonoured_options"] = {"type": "array", "items": {"type": "string"}}
    return properties


def _schemas(settings: Settings) -> dict[str, Any]:
    number, integer, string = {"type": "number"}, {"type": "integer"}, {"type": "string"}
    return {
        "JobRequest": {
            "type": "object",
            "required": ["text"],
            "additionalProperties": False,
            "properties": {
                "text": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": settings.max_text_chars,
                    "pattern": TEXT_PATTERN,
                },
                # Each option may be null: the same as leaving it out (the summarizer's default).
                "max_words": {"type": ["integer", "null"], "minimum": MIN_WORDS, "maximum": MAX_WORDS},
                "max_output_tokens": {
                    "type": ["integer", "null"],
                    "minimum": MIN_OUTPUT_TOKENS,
                    "maximum": settings.max_output_tokens or MAX_OUTPUT_TOKENS,
                    "description": "the model writes at most this many tokens (what the job may cost)",
                },
                "format": {"enum": [*FORMATS, None]},
                "language": {
                    "type": ["string", "null"],
                    "pattern": LANGUAGE_PATTERN,
                    "description": "a BCP 47 tag of a registered language, e.g. en, pt-BR, zh-Hant",
                },
                "expires_in": {
                    "type": ["number", "null"],
                    "exclusiveMinimum": 0,
                    "maximum": MAX_EXPIRES_S,
                    "description": "seconds: not started by then, the job ends 'expired' without a model call",
                },
                "priority": {
                    "enum": [priority.value for priority in PRIORITIES] + [None],
                    "description": "a worker starts the most urgent job waiting; default 'normal'",
                },
                "stream": {
                    "type": ["boolean", "null"],
                    "description": "stream the summary as it is written even before an event stream follows the job",
                },
                "mode": {
                    "enum": [mode.value for mode in Mode] + [None],
                    "description": "'batch': answered by a Gemini batch job, at half the price, within 24 h",
                },
                "over_budget": {
                    "enum": ["fail", "wait", None],
                    "description": "a batch job over its tenant's budget of the day: fail (default) or wait a day",
                },
                "callback_url": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "maxLength": 2048,
                    "description": "called (Standard Webhooks, signed) when the job ends: a host in "
                    "WEBHOOK_ALLOWED_HOSTS, https unless listed with http, no private address unless listed by name",
                },
            },
            # A batch job is answered whole: it cannot ask to be streamed; only a batch job can wait
            # for the next day's budget.
            "if": {"required": ["mode"], "properties": {"mode": {"const": "batch"}}},
            "then": {"properties": {"stream": {"enum": [False, None]}}},
            "else": {"properties": {"over_budget": {"enum": ["fail", None]}}},
        },
        "Accepted": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {"id": string, "status": {"enum": [status.value for status in Status]}},
        },
        "Job": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {"id": string, **_record_properties()},
        },
        "JobList": {
            "type": "object",
            "required": ["jobs"],
            "properties": {"jobs": {"type": "array", "items": _ref("Job")}},
        },
        "Stats": {
            "type": "object",
            "required": ["queued", "processing", "delayed", "dead", "workers", "totals", "usage", "rates_per_minute"],
            "properties": {
                "queued": integer,
                "processing": integer,
                "delayed": integer,
                "dead": integer,
                "dead_written": {**integer, "description": "entries ever put on the dead list"},
                "trend": {
                    "type": "array",
                    "description": "the last hour, a point a minute: t (unix s), queued, done, failed, p50_s, p95_s",
                    "items": {"type": "object", "required": ["t", "queued"]},
                },
                "batch": {
                    "type": "object",
                    "description": "the batch lane: jobs waiting to join a batch, batches in flight, the oldest's age",
                    "properties": {"waiting": integer, "in_flight": integer, "oldest_batch_age_s": {"type": "number"}},
                },
                "webhooks": {
                    "type": "object",
                    "description": "webhook deliveries to be made (or under way) and given up (resend from the CLI)",
                    "properties": {"pending": integer, "dead": integer},
                },
                "dead_retention": {
                    "type": "object",
                    "description": "what the dead list keeps: DEAD_MAX entries, none older than DEAD_TTL",
                    "properties": {"max": integer, "ttl_s": integer},
                },
                "workers": {"type": "array", "items": {"type": "object", "required": ["id", "alive", "processing"]}},
                "totals": {"type": "object", "additionalProperties": integer},
                "usage": {"type": "object", "additionalProperties": number},
                "rates_per_minute": {"type": "object", "additionalProperties": number},
                "tenant": string,
                "tenants": {"type": "object", "description": "each tenant's active jobs, totals and usage"},
            },
        },
        "TenantStats": {
            "type": "object",
            "required": ["tenant", "active", "totals", "usage", "quota"],
            "properties": {
                "tenant": string,
                "active": {**integer, "description": "jobs queued or running now"},
                "totals": {"type": "object", "additionalProperties": integer},
                "usage": {"type": "object", "additionalProperties": number},
                "quota": {"type": "object", "additionalProperties": integer},
            },
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details",
            "required": ["type", "title", "status", "detail"],
            "properties": {"type": string, "title": string, "status": integer, "detail": string, "instance": string},
        },
    }


def _paths() -> dict[str, Any]:
    job = _json("the job record", _ref("Job"))
    return {
        "/process": {
            "post": {
                "summary": "Enqueue a text to summarize",
                "parameters": [
                    WAIT,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    },
                ],
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref("JobRequest")}}},
                "responses": {
                    "202": {**_json("accepted; poll Location", _ref("Accepted")), "headers": LOCATION},
                    "200": {**job, "description": "the job ended within ?wait=", "headers": LOCATION},
                    "400": _problem("not JSON, a body that does not decode, or a bad wait or Idempotency-Key"),
                    "401": UNAUTHORIZED,
                    "413": _problem("the body is over the limit"),
                    "415": _problem("Content-Type is not JSON"),
                    "422": _problem(
                        "the JSON is not a valid job (what is wrong is in detail), or the Idempotency-Key was "
                        "used before with another body (/problems/idempotency-key-reused)"
                    ),
                    "429": _problem(
                        "a quota of the key's tenant: requests per minute (/problems/rate-limited), jobs queued or "
                        "running (/problems/too-many-active-jobs) or model tokens of the day (/problems/budget-spent)",
                        RATE_LIMITED_HEADERS,
                    ),
                    "408": _problem("the body did not arrive within BODY_TIMEOUT"),
                    "503": _problem(
                        "the queue is full (MAX_QUEUE_LENGTH), or Redis is unreachable or full", {"Retry-After": {}}
                    ),
                },
            }
        },
        "/jobs": {
            "get": {
                "summary": "The newest jobs enqueued through the API",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
                ],
                "responses": {
                    "200": _json("newest first", _ref("JobList")),
                    "400": _problem("limit out of range"),
                    "401": UNAUTHORIZED,
                    "503": REDIS_DOWN,
                },
            }
        },
        "/jobs/{job_id}": {
            "get": {
                "summary": "A job's record",
                "parameters": [JOB_ID, WAIT],
                "responses": {
                    "200": job,
                    "400": _problem("a bad wait"),
                    "401": UNAUTHORIZED,
                    "404": _problem("unknown, expired after RESULT_TTL, or another tenant's"),
                    "503": REDIS_DOWN,
                },
            },
            "delete": {
                "summary": "Cancel a job: queued, it never runs; running, its model call is aborted",
                "parameters": [JOB_ID],
                "responses": {
                    "200": job,
                    "401": UNAUTHORIZED,
                    "404": _problem("unknown, expired after RESULT_TTL, or another tenant's"),
                    "409": _problem("the job has already ended (done, failed, expired or cancelled)"),
                    "503": REDIS_DOWN,
                },
            },
        },
        "/jobs/{job_id}/events": {
            "get": {
                "summary": "The summary as it is written (Server-Sent Events: progress, then how the job ended)",
                "parameters": [
                    JOB_ID,
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "description": "the id of the last event received: 'end', or a stream entry id",
                        "schema": {"type": "string", "pattern": LAST_EVENT_ID_PATTERN},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "an event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "204": {"description": "Last-Event-ID was 'end': nothing more will come"},
                    "400": _problem("a Last-Event-ID this stream never sent"),
                    "401": UNAUTHORIZED,
                    "404": _problem("unknown, expired after RESULT_TTL, or another tenant's"),
                    "429": _problem(
                        "the tenant holds its share of this server's event streams (/problems/tenant-streams)",
                        {"Retry-After": {}},
                    ),
                    "503": _problem(
                        "Redis unreachable or full, or MAX_EVENT_STREAMS streams open (/problems/too-many-streams)",
                        {"Retry-After": {}},
                    ),
                },
            }
        },
        "/stats": {
            "get": {
                "summary": "Where the jobs are, the workers, totals, usage and rates",
                "responses": {
                    "200": _json(
                        "an admin's numbers (every tenant's), or a tenant's own",
                        {"oneOf": [_ref("Stats"), _ref("TenantStats")]},
                    ),
                    "401": UNAUTHORIZED,
                    "503": REDIS_DOWN,
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": UNAUTHORIZED,
                },
            }
        },
        "/healthz": {"get": {"summary": "The process runs", "responses": {"200": _json("alive", {"type": "object"})}}},
        "/readyz": {
            "get": {
                "summary": "Redis answers and finished jobs reach this process (its result listener is subscribed)",
                "responses": {
                    "200": _json("ready", {"type": "object"}),
                    "503": _problem("Redis did not answer, or the result listener is not subscribed"),
                },
            }
        },
        "/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": _json("OpenAPI 3.1", {"type": "object"})}}
        },
        "/": {
            "get": {
                "summary": "The dashboard",
                "responses": {
                    "200": {"description": "a page", "content": {"text/html": {"schema": {"type": "string"}}}}
                },
            }
        },
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "summarize-queue",
            "version": "1.0.0",
            "description": "Submit texts to summarize; follow their jobs. Errors are application/problem+json.",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(settings),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a key of API_KEYS: it names the tenant"}
            },
        },
        # Optional: the API asks for a key only when API_KEYS is set.
        "security": [{"bearer": []}, {}],
    }
