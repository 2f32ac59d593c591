"""Tenants: who an API key belongs to, what it may see, and its quotas.

A key is given as `tenant:key` in API_KEYS (a bare key belongs to tenant `default`), or in
API_KEYS_FILE (TOML), which may also set each tenant's quotas and the defaults:

    [defaults]                 # for every tenant that sets none of its own
    requests_per_minute = 600  # POST /process per minute, shared by every API replica
    max_active_jobs = 1000     # jobs queued or running at once
    daily_tokens = 0           # model tokens per UTC day (0: no limit)
    daily_cost_usd = 0         # what its jobs may cost per UTC day, USD, at GEMINI_PRICE* (0: no limit)
    weight = 1                 # share of free workers while several tenants' jobs wait (1-100)

    [tenants.acme]
    keys = ["acme-0123456789abcdef"]
    requests_per_minute = 60

    webhook_secret = "whsec_..." # signs this tenant's webhooks (else WEBHOOK_SECRET)

    [tenants.ops]
    keys = ["ops-0123456789abcdef"]
    admin = true               # sees every tenant's jobs and numbers

The tenant named `admin` is an admin wherever it is declared. With no keys at all the
service is open and everyone is the admin of tenant `default`, as a single-user service is.
"""

from __future__ import annotations

import hmac
import logging
import tomllib
from dataclasses import dataclass, field, replace
from typing import Any, Final

from app.config import ConfigError, Settings, webhook_secret
from app.queue.contract import DEFAULT_TENANT, TENANT_RE
from app.queue.producer import Quota

log = logging.getLogger(__name__)

DEFAULT: Final = DEFAULT_TENANT
ADMIN: Final = "admin"
_QUOTA_FIELDS: Final = {"requests_per_minute", "max_active_jobs", "daily_tokens", "weight", "daily_cost_usd"}
MAX_WEIGHT: Final = 100


@dataclass(frozen=True, slots=True)
class Tenant:
    name: str
    admin: bool = False
    quota: Quota = field(default_factory=Quota)
    webhook_secret: str = field(default="", repr=False)  # signs its webhooks; '' = WEBHOOK_SECRET

    def sees(self, owner: str) -> bool:
        """May this tenant read a job of tenant `owner`?"""
        return self.admin or owner == self.name


class Tenants:
    """The keys and the tenants they belong to. `open` is who an open service's (no keys)
    requests act for: tenant default, an admin, under the default quotas."""

    def __init__(self, keys: list[tuple[bytes, Tenant]], defaults: Quota | None = None) -> None:
        self._keys = keys
        self.open = Tenant(DEFAULT, admin=True, quota=defaults or Quota())

    @property
    def required(self) -> bool:
        return bool(self._keys)

    @property
    def secrets(self) -> list[str]:
        """Every key, for the log redactor (a key from API_KEYS_FILE is in no environment variable)."""
        return [key.decode() for key, _ in self._keys] + list(self.webhook_secrets().values())

    def webhook_secrets(self) -> dict[str, str]:
        """The tenants that sign their webhooks with a secret of their own, and that secret."""
        return {tenant.name: tenant.webhook_secret for _, tenant in self._keys if tenant.webhook_secret}

    def identify(self, presented: bytes) -> Tenant | None:
        """The tenant of the key presented, or None. Every key is compared, each in
        constant time: neither which key nor how much of one matched shows in the timing."""
        found = None
        for key, tenant in self._keys:
            if hmac.compare_digest(presented, key):
                found = tenant
        return found

    @classmethod
    def from_settings(cls, settings: Settings) -> Tenants:
        """From API_KEYS and API_KEYS_FILE; ConfigError names what is wrong (never a key)."""
        file = _read_file(settings.api_keys_file) if settings.api_keys_file else {}
        defaults = _quota(file.get("defaults", {}), "[defaults]", _env_quota(settings))
        tenants: dict[str, Tenant] = {}
        keys: list[tuple[str, str]] = []
        for name, table in _tables(file.get("tenants", {}), "[tenants]").items():
            tenant = _tenant(name, table, defaults)
            tenants[name] = tenant
            keys += [(key, name) for key in _file_keys(table, name)]
        keys += [_split(entry) for entry in settings.api_keys]
        for _, name in keys:
            tenants.setdefault(name, Tenant(name, admin=name == ADMIN, quota=defaults))
        seen: set[str] = set()
        for key, _ in keys:
            if key in seen:
                raise ConfigError("an API key is given twice (API_KEYS / API_KEYS_FILE): each key names one tenant")
            seen.add(key)
        named = sorted({name for entry in settings.api_keys if (name := _split(entry)[1]) != DEFAULT})
        if named:  # a bare key that happens to hold a ':' would be read as tenant:key: say which tenants came of it
            log.info("API_KEYS entries read as tenant:key", extra={"tenants": ",".join(named)})
        _warn_of_unpriced_budgets(settings, [defaults, *(tenant.quota for tenant in tenants.values())])
        return cls([(key.encode(), tenants[name]) for key, name in keys], defaults)


def _warn_of_unpriced_budgets(settings: Settings, quotas: list[Quota]) -> None:
    """A cost budget with no prices set never trips: a job's cost is unknown, and counts 0."""
    priced = settings.gemini_price_input_per_m is not None or settings.gemini_price_output_per_m is not None
    if any(quota.daily_cost_usd for quota in quotas) and not priced and not settings.gemini_prices:
        log.warning("daily_cost_usd budgets are set but no prices (GEMINI_PRICE_*, GEMINI_PRICES): they never trip")


def _env_quota(settings: Settings) -> Quota:
    return Quota(
        settings.tenant_rpm,
        settings.tenant_max_active,
        settings.tenant_daily_tokens,
        daily_cost_usd=settings.tenant_daily_cost_usd,
    )


def _split(entry: str) -> tuple[str, str]:
    """`tenant:key` or a bare key (tenant `default`)."""
    name, colon, key = entry.partition(":")
    if not colon or not TENANT_RE.fullmatch(name):
        return entry, DEFAULT
    if len(key) < 16:
        raise ConfigError(f"API_KEYS: the key of tenant {name!r} is shorter than 16 characters")
    return key, name


def _read_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"API_KEYS_FILE={path!r} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"API_KEYS_FILE={path!r} is not valid TOML: {exc}") from None


def _tables(value: object, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError(f"API_KEYS_FILE: {where} must be a table of tables, like [tenants.acme]")
    return value


def _tenant(name: str, table: dict[str, Any], defaults: Quota) -> Tenant:
    if not TENANT_RE.fullmatch(name):
        raise ConfigError(f"API_KEYS_FILE: tenant name {name!r} is not valid: expected [a-z0-9_-], 1-64, as in acme-eu")
    unknown = sorted(table.keys() - _QUOTA_FIELDS - {"keys", "admin", "webhook_secret"})
    if unknown:
        raise ConfigError(f"API_KEYS_FILE: [tenants.{name}] has unknown field(s) {unknown}")
    admin = table.get("admin", name == ADMIN)
    if not isinstance(admin, bool):
        raise ConfigError(f"API_KEYS_FILE: [tenants.{name}] admin must be true or false")
    secret = table.get("webhook_secret", "")
    try:
        secret = webhook_secret(secret) if secret else ""
    except (ValueError, TypeError):
        raise ConfigError(
            f"API_KEYS_FILE: [tenants.{name}] webhook_secret is not valid (not shown): expected whsec_ and base64 "
            "of 24-64 random bytes"
        ) from None
    return Tenant(name, admin=admin, quota=_quota(table, f"[tenants.{name}]", defaults), webhook_secret=secret)


def _file_keys(table: dict[str, Any], name: str) -> list[str]:
    keys = table.get("keys", [])
    if not isinstance(keys, list) or not all(_valid_key(key) for key in keys):
        raise ConfigError(f"API_KEYS_FILE: [tenants.{name}] keys must be a list of 16-256 printable characters each")
    return keys


def _valid_key(key: object) -> bool:
    return isinstance(key, str) and 16 <= len(key) <= 256 and key.isprintable() and " " not in key


def _quota(table: dict[str, Any], where: str, base: Quota) -> Quota:
    quota = base
    for name in _QUOTA_FIELDS & table.keys():
        value = table[name]
        if name == "weight" and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_WEIGHT):
            raise ConfigError(f"API_KEYS_FILE: {where} weight = {value!r}: expected an integer from 1 to {MAX_WEIGHT}")
        if name == "daily_cost_usd":
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"API_KEYS_FILE: {where} daily_cost_usd = {value!r}: expected 0 (no limit) or USD")
            quota = replace(quota, daily_cost_usd=float(value))
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"API_KEYS_FILE: {where} {name} = {value!r}: expected 0 (no limit) or a positive integer")
        quota = replace(quota, **{name: value})
    return quota
