"""A callback URL as POST /process takes it: allowed by WEBHOOK_ALLOWED_HOSTS, resolving only to
addresses webhooks may reach (checked again at each delivery: app/webhooks/delivery.py), and
with a secret to sign its deliveries."""

from __future__ import annotations

from app.config import Settings
from app.tenants import Tenant
from app.webhooks.dns import lookup
from app.webhooks.targets import TargetRefused, allow_list


async def checked_callback(raw: object, settings: Settings, tenant: Tenant) -> str:
    """The callback URL to keep; TargetRefused says why it cannot be."""
    if not isinstance(raw, str):
        raise TargetRefused(f"it must be a string (an https:// URL), not {type(raw).__name__}")
    allow = allow_list(settings.webhook_allowed_hosts)
    url = allow.check_url(raw)
    if not (tenant.webhook_secret or settings.webhook_secret):
        raise TargetRefused("no secret to sign its deliveries: set WEBHOOK_SECRET (or the tenant's webhook_secret)")
    host, port = (url.host or "").rstrip("."), url.port or 443
    try:
        found = await lookup(host, port)
    except (OSError, TimeoutError) as exc:
        raise TargetRefused(f"its host {host!r} does not resolve ({type(exc).__name__}): check the name") from None
    for _, address in found:
        allow.check_address(host, port, address)
    return str(url)
