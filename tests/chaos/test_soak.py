"""The chaos soak in its bounded form: CHAOS_SECONDS of chaos (default 45), then up to 45 s to
settle, then the checks (see tests/chaos/soak.py; `make chaos` runs the full form). The seed is
random unless CHAOS_SEED is set, and is printed with the report so a failure can be replayed:
`python -m tests.chaos.soak --seed S --seconds N`."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.chaos.soak import SoakConfig, run_soak
from tests.redis_server import require_binary

CHAOS_SECONDS = float(os.environ.get("CHAOS_SECONDS") or 45)
SETTLE_S = 45.0
# Start-up, the chaos, faults finishing (15 s), settling (45 s) and the final probes (15 s)
# are each bounded; a passing run takes about CHAOS_SECONDS + 35 s.
pytestmark = [pytest.mark.redis, pytest.mark.timeout(int(CHAOS_SECONDS) + 120)]


async def test_chaos_soak_every_accepted_job_ends_exactly_once(tmp_path: Path) -> None:
    require_binary("redis-server")  # fails in CI (CI=true), skips elsewhere
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 2**31))
    result = await run_soak(SoakConfig(CHAOS_SECONDS, seed, tmp_path / "soak", settle_s=SETTLE_S))
    print(result.report)
    if not result.ok:
        failures = "\n".join(f"FAIL {check.name}: {check.detail}" for check in result.failures)
        pytest.fail(f"{failures}\n{result.report}", pytrace=False)
