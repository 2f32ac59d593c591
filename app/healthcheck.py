"""`python -m app healthcheck` for container HEALTHCHECKs: asks the role's own port for /healthz
and exits 0 (healthy) or 1. Runs every few seconds, so it imports nothing but the settings."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from app.config import Role, Settings


def healthcheck(settings: Settings) -> int:
    port = settings.metrics_port if settings.role is Role.WORKER else settings.port
    if port == 0:
        print("healthcheck: METRICS_PORT=0, so a worker serves no /healthz", file=sys.stderr)
        return 1
    # The bound address, unless it is every address (0.0.0.0, ::): then loopback is one of them.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{host}:{port}/healthz" if ":" not in host else f"http://[{host}]:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
