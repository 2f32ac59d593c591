"""`make run`'s mode: `python -m app` with no Redis and no API key, as a new user starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import until_ok
from tests.redis_server import free_port

TEXT = (
    "Redis is an in-memory data store. It is often used as a cache. "
    "Lists in Redis make simple and fast queues. Workers take jobs from a list and run them. "
    "Pub/Sub lets a worker announce a finished job to every listener at once."
)


@pytest.fixture
def embedded_service(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "GEMINI_", "SUMMARIZER"))}
    env |= {"ROLE": "all", "PORT": str(port)}
    log_path = tmp_path / "service.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "app"], env=env, stdout=log_file, stderr=log_file)
    yield f"http://127.0.0.1:{port}", process, log_path
    if process.poll() is None:
        process.kill()
        process.wait()


async def wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    def died() -> str | None:
        return None if process.poll() is None else log_path.read_text()

    await until_ok(f"{base_url}/healthz", 30, died)


async def test_post_with_wait_works_with_no_redis_and_no_key(
    embedded_service: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    base_url, process, log_path = embedded_service
    await wait_healthy(base_url, process, log_path)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/process?wait=30", json={"text": TEXT}) as response,
    ):
        job = await response.json()
    assert (response.status, job["status"], job["model"]) == (200, "done", "extractive-textrank")
    assert 0 < len(job["summary"]) < len(TEXT)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    log = log_path.read_text()
    assert "embedded in-process broker" in log
    assert "extractive summarizer" in log
    assert "curl -X POST" in log
