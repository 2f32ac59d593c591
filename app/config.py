"""Settings: parsed once from the environment, frozen, validated at start."""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from app import tracing
from app.redact import mask_url
from app.webhooks.targets import allow_list

T = TypeVar("T")


class Role(StrEnum):
    API = "api"
    WORKER = "worker"
    ALL = "all"


# The longest a job may wait to start (expires_in, JOB_EXPIRES): 30 days, as an unfinished record lives.
MAX_EXPIRES_S = 30 * 86_400
SUMMARIZERS = ("gemini", "extractive", "noop", "sleep")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """A setting has a value the service cannot run with. The message is one line."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of the service. Nothing else in the package reads os.environ."""

    role: Role = Role.ALL
    redis_url: str | None = None  # None: the embedded in-process broker (ROLE=all only)
    redis_cluster: bool = False  # REDIS_URL names seed nodes of a Redis Cluster
    host: str = "127.0.0.1"  # the API's bind address; the container image sets 0.0.0.0
    port: int = 3000
    metrics_port: int = 9400  # a worker's own HTTP port: /healthz (and /metrics); 0 = none
    queue_name: str = "job_queue"
    result_channel: str = "job_result"
    worker_concurrency: int = 50
    # Messages a worker reserves beyond its slots, so a freed slot starts its next job at once
    # (None: a tenth of WORKER_CONCURRENCY, at most 100, see `prefetch`; 0: none).
    worker_prefetch: int | None = None
    summarizer: str = "extractive"
    gemini_api_key: str | None = field(default=None, repr=False)
    gemini_model: str = "gemini-flash-latest"
    # GEMINI_MODEL's further names: tried in order within an attempt while the ones before are
    # overloaded (503) or out of quota (429), or cooling down longer than fallback_after_s.
    gemini_fallbacks: tuple[str, ...] = ()
    fallback_after_s: float = 5.0
    max_output_tokens: int = 0  # the model writes at most this many tokens per call (0: the model's own limit)
    # USD per million (prompt, output) tokens by model (GEMINI_PRICES), over the two below.
    gemini_prices: tuple[tuple[str, float, float], ...] = ()
    gemini_base_url: str | None = None
    gemini_rpm: int = 0  # requests per minute across all workers; 0 = no limit
    gemini_tpm: int = 0  # tokens per minute across all workers; 0 = no limit
    gemini_price_input_per_m: float | None = None  # USD per million prompt tokens
    gemini_price_output_per_m: float | None = None  # USD per million output tokens
    result_cache_ttl_s: int = 3600  # 0 = no result cache
    sleep_summarizer_s: float = 0.05
    job_timeout_s: float = 120.0
    job_expires_s: float = 0.0  # a job not started this long after it was sent ends `expired`; 0 = never
    max_attempts: int = 3
    # The batch lane (app/batch/lane.py): a batch is made when this many batch jobs of one model
    # and options wait, or when the oldest has waited batch_max_wait_s; polled from batch_poll_min_s
    # apart, backing off to batch_poll_max_s. A batch that fails, expires or is cancelled sends its
    # jobs to run interactively, or fails them (batch_on_expire).
    batch_max_jobs: int = 1000
    batch_max_wait_s: float = 300.0
    batch_poll_min_s: float = 30.0
    batch_poll_max_s: float = 600.0
    batch_on_expire: str = "interactive"
    result_ttl_s: int = 86_400
    dead_max: int = 10_000  # entries the dead list keeps, newest first
    dead_ttl_s: int = 7 * 86_400  # seconds a dead-list entry is kept
    max_text_chars: int = 100_000
    max_queue_length: int = 0
    shutdown_grace_s: float = 30.0
    heartbeat_s: float = 3.0
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0
    log_level: str = "INFO"
    log_format: str = "text"
    api_keys: tuple[str, ...] = field(default=(), repr=False)  # "key" or "tenant:key"; empty: no auth
    api_keys_file: str | None = None  # TOML: tenants, their keys and quotas (app/tenants.py)
    tenant_rpm: int = 0  # requests per minute a tenant may make to POST /process; 0 = no limit
    tenant_max_active: int = 0  # jobs a tenant may have queued or running at once; 0 = no limit
    tenant_daily_tokens: int = 0  # model tokens a tenant's jobs may use per UTC day; 0 = no limit
    tenant_daily_cost_usd: float = 0.0  # what a tenant's jobs may cost per UTC day, USD; 0 = no limit
    header_timeout_s: float = 10.0  # a request's line and headers must arrive within this
    body_timeout_s: float = 30.0  # and its body within this
    keepalive_timeout_s: float = 15.0  # an idle kept-alive connection is closed after this
    max_connections: int = 1000  # open connections per API process; beyond, 503 and closed
    max_event_streams: int = 500  # open event streams per API process; beyond, 503
    metrics_auth: bool = False  # /metrics needs a key too
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API; ("*",) = any
    # Webhooks (app/webhooks): where callbacks may go (app/webhooks/targets.py says the forms; empty:
    # callback_url is refused), the signing secret (whsec_..., unless every tenant has its own), and
    # the delivery: attempts, each one's timeout, and the backoff between them (doubling, capped).
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_max_attempts: int = 10
    webhook_timeout_s: float = 10.0
    webhook_backoff_s: float = 2.0
    webhook_backoff_max_s: float = 900.0
    # OpenTelemetry traces (app/tracing.py): on when OTEL_* name an OTLP endpoint; the SDK reads the rest.
    tracing: bool = False
    tracing_sampler_set: bool = False  # OTEL_TRACES_SAMPLER chooses the sampler (else: requests and jobs only)

    @property
    def embedded(self) -> bool:
        return self.redis_url is None

    @property
    def prefetch(self) -> int:
        """WORKER_PREFETCH, or a tenth of the slots: enough that a freed slot never waits for a
        reservation, few enough that a more urgent job (or another worker) waits behind little
        (bench/scheduling.py measures it). None below 10 slots: there a job's wait is its slot's."""
        return self.worker_prefetch if self.worker_prefetch is not None else min(100, self.worker_concurrency // 10)

    @property
    def heartbeat_ttl_s(self) -> float:
        # Three missed beats before a worker counts as dead: a slow beat is not a death.
        return self.heartbeat_s * 3

    @property
    def max_body_bytes(self) -> int:
        return body_limit(self.max_text_chars)


def body_limit(max_text_chars: int) -> int:
    """The most bytes a JSON body (or a queue message) holding a text of `max_text_chars` may
    take: a JSON string may escape each character as a 6-byte \\u escape and a surrogate pair
    takes 12 for 2 UTF-16 units; 6x plus slack covers it."""
    return max_text_chars * 6 + 4096


def _parse(
    env: Mapping[str, str], name: str, default: T, convert: Callable[[str], T], allowed: str, *, secret: bool = False
) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw.strip())
    except ValueError:
        shown = " (its value is secret, not shown)" if secret else f"={raw!r}"
        raise ConfigError(f"{name}{shown} is not valid: expected {allowed}") from None


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(raw)
        return value

    return convert


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def convert(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:  # also rejects nan
            raise ValueError(raw)
        return value

    return convert


def _one_of(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        value = raw.upper() if upper else raw.lower()
        if value not in choices:
            raise ValueError(raw)
        return value

    return convert


def _flag(raw: str) -> bool:
    if raw.lower() not in ("0", "1", "true", "false", "yes", "no"):
        raise ValueError(raw)
    return raw.lower() in ("1", "true", "yes")


KEYS_EXPECTED = "comma-separated keys of 16-256 printable characters, each maybe as tenant:key"


def _keys(raw: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    if not keys or any(not (16 <= len(key) <= 256 and key.isprintable() and " " not in key) for key in keys):
        raise ValueError("API_KEYS")
    return keys


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    if origins != ("*",) and not all(o.startswith(("http://", "https://")) and "*" not in o for o in origins):
        raise ValueError(raw)
    return origins


def _allowed_hosts(raw: str) -> tuple[str, ...]:
    entries = tuple(part.strip() for part in raw.split(",") if part.strip())
    allow_list(entries)  # parsed (and kept) once: a bad entry stops the start
    return entries


def webhook_secret(raw: str) -> str:
    """A Standard Webhooks signing secret: whsec_ and base64 of 24 to 64 random bytes."""
    if not isinstance(raw, str) or not raw.startswith("whsec_"):
        raise ValueError("no whsec_ prefix")
    try:
        size = len(base64.b64decode(raw.removeprefix("whsec_"), validate=True))
    except binascii.Error:
        raise ValueError("not base64") from None
    if not 24 <= size <= 64:
        raise ValueError("size")
    return raw


def _name(raw: str) -> str:
    if any(c.isspace() for c in raw) or "{" in raw or "}" in raw:
        raise ValueError(raw)
    return raw


def _names(raw: str) -> tuple[str, ...]:
    names = tuple(_name(name.strip()) for name in raw.split(","))
    if not all(names) or len(set(names)) != len(names):
        raise ValueError(raw)
    return names


def _prices(raw: str) -> tuple[tuple[str, float, float], ...]:
    """`model=IN/OUT,...`: USD per million prompt and output tokens of each model named."""
    prices = []
    for entry in raw.split(","):
        model, _, pair = entry.strip().partition("=")
        paid_in, _, paid_out = pair.partition("/")
        values = (float(paid_in), float(paid_out))
        if not all(0 <= value <= 10**6 for value in values):
            raise ValueError(entry)
        prices.append((_name(model), *values))
    return tuple(prices)


def _redis_url(env: Mapping[str, str], role: Role) -> str | None:
    url = env.get("REDIS_URL", "").strip()
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://", "redis+cluster://", "redis+sentinel://")):
            expected = (
                "a redis://, rediss://, unix://, redis+cluster://host:port[,host:port] or "
                "redis+sentinel://host:port[,host:port]/service URL"
            )
            raise ConfigError(f"REDIS_URL={mask_url(url)!r} is not valid: expected {expected}")
        return url
    host = env.get("REDIS_HOST", "").strip().strip('"')
    if host or env.get("REDIS_PORT", "").strip():
        port = _parse(env, "REDIS_PORT", 6379, _int_in(1, 65535), "a port number 1-65535")
        return f"redis://{host or 'localhost'}:{port}/0"
    # Only ROLE=all can run on an in-process broker: an api or a worker alone
    # would have nobody to talk to, so they default to a local Redis.
    return None if role is Role.ALL else "redis://localhost:6379/0"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `env` (os.environ by default); raise ConfigError naming the bad variable."""
    env = os.environ if env is None else env
    positive = "a positive number"
    role = _parse(env, "ROLE", Role.ALL, Role, "one of api, worker, all")
    api_key = env.get("GEMINI_API_KEY", "").strip() or None
    models = _parse(env, "GEMINI_MODEL", ("gemini-flash-latest",), _names, "model names, comma-separated, best first")
    default_summarizer = "gemini" if api_key else "extractive"
    summarizer = _parse(env, "SUMMARIZER", default_summarizer, _one_of(SUMMARIZERS), ", ".join(SUMMARIZERS))
    if summarizer == "gemini" and not api_key:
        raise ConfigError("SUMMARIZER='gemini' needs GEMINI_API_KEY: set the key, or SUMMARIZER=extractive")
    redis_url = _redis_url(env, role)
    if (redis_url or "").startswith("redis+sentinel://") and not redis_url.split("://", 1)[1].partition("/")[2]:
        raise ConfigError(
            f"REDIS_URL={mask_url(redis_url)!r} names no service: expected redis+sentinel://host:port/service"
        )
    cluster = _parse(env, "REDIS_CLUSTER", False, _flag, "0 or 1") or (redis_url or "").startswith("redis+cluster://")
    if cluster and not (redis_url or "").startswith(("redis://", "redis+cluster://")):
        shown = mask_url(redis_url) if redis_url else None
        raise ConfigError(f"REDIS_CLUSTER=1 needs a redis:// URL of a cluster node, not {shown!r}")
    return Settings(
        role=role,
        redis_url=redis_url,
        redis_cluster=cluster,
        host=_parse(env, "HOST", "127.0.0.1", _name, "an address to bind, e.g. 127.0.0.1 or 0.0.0.0"),
        port=_parse(env, "PORT", 3000, _int_in(1, 65535), "a port number 1-65535"),
        metrics_port=_parse(env, "METRICS_PORT", 9400, _int_in(0, 65535), "0 (none) or a port number 1-65535"),
        queue_name=_parse(env, "QUEUE_NAME", "job_queue", _name, "a name without spaces or braces"),
        result_channel=_parse(env, "RESULT_CHANNEL", "job_result", _name, "a name without spaces or braces"),
        worker_concurrency=_parse(env, "WORKER_CONCURRENCY", 50, _int_in(1, 10_000), "an integer 1-10000"),
        worker_prefetch=_parse(env, "WORKER_PREFETCH", None, _int_in(0, 10_000), "an integer 0-10000"),
        summarizer=summarizer,
        gemini_api_key=api_key,
        gemini_model=models[0],
        gemini_fallbacks=models[1:],
        fallback_after_s=_parse(env, "FALLBACK_AFTER", 5.0, _float_in(0, 3600), "seconds 0-3600"),
        max_output_tokens=_parse(env, "MAX_OUTPUT_TOKENS", 0, _int_in(0, 65_536), "0 (the model's limit) or 1-65536"),
        gemini_prices=_parse(env, "GEMINI_PRICES", (), _prices, "model=IN/OUT pairs, e.g. gemini-2.5-flash=0.3/2.5"),
        gemini_base_url=env.get("GEMINI_BASE_URL", "").strip() or None,
        gemini_rpm=_parse(env, "GEMINI_RPM", 0, _int_in(0, 10**8), "0 (no limit) or requests per minute"),
        gemini_tpm=_parse(env, "GEMINI_TPM", 0, _int_in(0, 10**12), "0 (no limit) or tokens per minute"),
        gemini_price_input_per_m=_parse(
            env, "GEMINI_PRICE_INPUT_PER_M", None, _float_in(0, 10**6), "USD per million tokens, 0 or more"
        ),
        gemini_price_output_per_m=_parse(
            env, "GEMINI_PRICE_OUTPUT_PER_M", None, _float_in(0, 10**6), "USD per million tokens, 0 or more"
        ),
        result_cache_ttl_s=_parse(env, "RESULT_CACHE_TTL", 3600, _int_in(0, 365 * 86_400), "0 (off) or seconds"),
        sleep_summarizer_s=_parse(env, "SLEEP_SUMMARIZER_S", 0.05, _float_in(0, 3600), "seconds 0-3600"),
        job_timeout_s=_parse(env, "JOB_TIMEOUT", 120.0, _float_in(0.001, 86_400), f"{positive} of seconds"),
        job_expires_s=_parse(env, "JOB_EXPIRES", 0.0, _float_in(0, MAX_EXPIRES_S), "0 (never) or up to 30 days of s"),
        max_attempts=_parse(env, "MAX_ATTEMPTS", 3, _int_in(1, 100), "an integer 1-100"),
        batch_max_jobs=_parse(env, "BATCH_MAX_JOBS", 1000, _int_in(1, 100_000), "an integer 1-100000"),
        batch_max_wait_s=_parse(env, "BATCH_MAX_WAIT", 300.0, _float_in(0, 86_400), "seconds 0-86400"),
        batch_poll_min_s=_parse(env, "BATCH_POLL_MIN", 30.0, _float_in(0.05, 3600), "seconds 0.05-3600"),
        batch_poll_max_s=_parse(env, "BATCH_POLL_MAX", 600.0, _float_in(0.05, 86_400), "seconds 0.05-86400"),
        batch_on_expire=_parse(
            env, "BATCH_ON_EXPIRE", "interactive", _one_of(("interactive", "fail")), "interactive or fail"
        ),
        result_ttl_s=_parse(env, "RESULT_TTL", 86_400, _int_in(1, 365 * 86_400), "seconds, at least 1"),
        dead_max=_parse(env, "DEAD_MAX", 10_000, _int_in(1, 10**8), "an integer 1-100000000"),
        dead_ttl_s=_parse(env, "DEAD_TTL", 7 * 86_400, _int_in(1, 365 * 86_400), "seconds, at least 1"),
        max_text_chars=_parse(env, "MAX_TEXT_CHARS", 100_000, _int_in(1, 10_000_000), "an integer 1-10000000"),
        max_queue_length=_parse(env, "MAX_QUEUE_LENGTH", 0, _int_in(0, 10**9), "0 (unlimited) or a positive integer"),
        shutdown_grace_s=_parse(env, "SHUTDOWN_GRACE", 30.0, _float_in(0, 3600), "seconds 0-3600"),
        heartbeat_s=_parse(env, "HEARTBEAT_INTERVAL", 3.0, _float_in(0.05, 300), "seconds 0.05-300"),
        retry_base_s=_parse(env, "RETRY_BASE_DELAY", 1.0, _float_in(0, 3600), "seconds 0-3600"),
        retry_max_s=_parse(env, "RETRY_MAX_DELAY", 60.0, _float_in(0, 86_400), "seconds 0-86400"),
        log_level=_parse(env, "LOG_LEVEL", "INFO", _one_of(LOG_LEVELS, upper=True), ", ".join(LOG_LEVELS)),
        log_format=_parse(env, "LOG_FORMAT", "text", _one_of(("text", "json")), "text or json"),
        api_keys=_parse(env, "API_KEYS", (), _keys, KEYS_EXPECTED, secret=True),
        api_keys_file=env.get("API_KEYS_FILE", "").strip() or None,
        tenant_rpm=_parse(env, "TENANT_RPM", 0, _int_in(0, 10**8), "0 (no limit) or requests per minute"),
        tenant_max_active=_parse(env, "TENANT_MAX_ACTIVE", 0, _int_in(0, 10**9), "0 (no limit) or a number of jobs"),
        tenant_daily_tokens=_parse(env, "TENANT_DAILY_TOKENS", 0, _int_in(0, 10**15), "0 (no limit) or tokens per day"),
        tenant_daily_cost_usd=_parse(
            env, "TENANT_DAILY_COST_USD", 0.0, _float_in(0, 10**9), "0 (no limit) or USD per day (needs GEMINI_PRICE*)"
        ),
        header_timeout_s=_parse(env, "HEADER_TIMEOUT", 10.0, _float_in(0.1, 3600), "seconds 0.1-3600"),
        body_timeout_s=_parse(env, "BODY_TIMEOUT", 30.0, _float_in(0.1, 3600), "seconds 0.1-3600"),
        keepalive_timeout_s=_parse(env, "KEEPALIVE_TIMEOUT", 15.0, _float_in(0.1, 3600), "seconds 0.1-3600"),
        max_connections=_parse(env, "MAX_CONNECTIONS", 1000, _int_in(1, 10**6), "an integer 1-1000000"),
        max_event_streams=_parse(env, "MAX_EVENT_STREAMS", 500, _int_in(1, 10**6), "an integer 1-1000000"),
        metrics_auth=_parse(env, "METRICS_AUTH", False, _flag, "0 or 1"),
        cors_origins=_parse(env, "CORS_ORIGINS", (), _origins, "* or comma-separated origins like https://a.example"),
        webhook_allowed_hosts=_parse(
            env,
            "WEBHOOK_ALLOWED_HOSTS",
            (),
            _allowed_hosts,
            "entries like *.example.com, hooks.example.com:8443, http://10.0.0.7:8080 or *, comma-separated",
        ),
        webhook_secret=_parse(
            env, "WEBHOOK_SECRET", None, webhook_secret, "whsec_ and base64 of 24-64 random bytes", secret=True
        ),
        webhook_max_attempts=_parse(env, "WEBHOOK_MAX_ATTEMPTS", 10, _int_in(1, 100), "an integer 1-100"),
        webhook_timeout_s=_parse(env, "WEBHOOK_TIMEOUT", 10.0, _float_in(0.1, 300), "seconds 0.1-300"),
        webhook_backoff_s=_parse(env, "WEBHOOK_BACKOFF", 2.0, _float_in(0.01, 3600), "seconds 0.01-3600"),
        webhook_backoff_max_s=_parse(env, "WEBHOOK_BACKOFF_MAX", 900.0, _float_in(0.01, 86_400), "seconds 0.01-86400"),
        tracing=_tracing(env),
        tracing_sampler_set=bool(env.get("OTEL_TRACES_SAMPLER", "").strip()),
    )


def _tracing(env: Mapping[str, str]) -> bool:
    if not tracing.configured(env):
        return False
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    protocol = protocol or "http/protobuf"
    if protocol.strip() != "http/protobuf":
        raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not built in: use http/protobuf (OTLP/HTTP)")
    return True


def log_level_number(settings: Settings) -> int:
    return logging.getLevelNamesMapping()[settings.log_level]
