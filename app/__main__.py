"""`python -m app`: read the settings, pick the role (ROLE=api|worker|all) and run it, or run a command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from app.config import ConfigError, load_settings, log_level_number
from app.logs import add_secrets, setup_logging


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # platforms without uvloop (Windows) run on asyncio's own loop
        return None
    return uvloop.new_event_loop


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if sys.argv[1:] == ["healthcheck"]:  # a container HEALTHCHECK: quick, quiet, no event loop
        from app.healthcheck import healthcheck

        return healthcheck(settings)
    try:
        from app.tenants import Tenants

        tenants = Tenants.from_settings(settings)  # a bad API_KEYS_FILE stops the start here, not in a traceback
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(log_level_number(settings), settings.log_format)
    add_secrets(tenants.secrets)
    if len(sys.argv) > 1:  # an operator command; no arguments runs the service
        from app.cli import run_cli

        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(run_cli(settings, sys.argv[1:]))
    from app.service import run

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
