"""The API against its own OpenAPI document: schemathesis generates requests from it against a
live `python -m app` (API and worker, real Redis) and checks every answer: no 5xx, and each
status, content type, header and body as documented."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api.openapi import IDEMPOTENCY_KEY_PATTERN
from tests.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 40  # per operation


@pytest.fixture(scope="module")
def live(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "GEMINI_", "SUMMARIZER"))}
    env |= {"REDIS_URL": redis_server.url, "PORT": str(port), "QUEUE_NAME": f"contract{port}", "SUMMARIZER": "noop"}
    env |= {"MAX_TEXT_CHARS": "2000", "LOG_LEVEL": "WARNING"}
    log = (tmp_path_factory.mktemp("contract") / "service.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the service did not become ready") from None
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


def _within_header_patterns(case: schemathesis.Case) -> bool:
    """schemathesis makes header values that HTTP allows (a tab, say) without the schema's
    pattern: such a case is not one the document promises to accept."""
    key = (case.headers or {}).get("Idempotency-Key")
    return key is None or re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key) is not None


def _checker(operation: Any, mode: GenerationMode, cases: Counter[str]) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        cases[f"{mode.value} {operation.label}"] += 1
        response = case.call()
        # Every other built-in check runs. "Schema-valid data is accepted" runs here instead.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        if mode is GenerationMode.POSITIVE and _within_header_patterns(case):
            problem = response.json() if response.status_code == 422 else {}
            # Refusals of schema-valid requests the schema cannot state: an unregistered language, a
            # callback URL this deployment does not allow (WEBHOOK_ALLOWED_HOSTS, its addresses), and
            # an Idempotency-Key the run already used with another body.
            refused = problem.get("field") in ("language", "callback_url")
            refused = refused or problem.get("type") == "/problems/idempotency-key-reused"
            assert response.status_code < 400 or response.status_code in (404, 503) or refused, response.text

    return check


def test_every_answer_is_documented_and_none_is_a_server_error(live: str) -> None:
    # schemathesis' own pytest plugin does not load under this pytest; its strategies do the same work.
    api = schemathesis.openapi.from_url(f"{live}/openapi.json")
    # An invalid body may also be refused for its size before it is read (413, documented).
    rejection = api.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    cases: Counter[str] = Counter()
    operations = [result.ok() for result in api.get_all_operations()]
    for operation in operations:
        _checker(operation, GenerationMode.POSITIVE, cases)()
        # Then invalid requests, for the operations that take input (the others have none to spoil).
        with contextlib.suppress(Unsatisfiable):
            _checker(operation, GenerationMode.NEGATIVE, cases)()
    print(f"schemathesis: {sum(cases.values())} cases over {len(operations)} operations, all conforming: {dict(cases)}")
    exercised = {label.split(" ", 1)[1] for label in cases}
    assert len(exercised) == len(operations) >= 9, sorted(cases)  # every operation of the document was exercised
