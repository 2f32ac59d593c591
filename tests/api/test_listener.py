"""The API's one result listener: whatever is published on its channels, and whatever goes
wrong inside it, finished jobs keep reaching their waiters, and /readyz says when they cannot."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.api.resources import HUB
from app.client import AsyncClient
from app.config import Settings
from app.queue.store import Queue
from tests.api.conftest import Service, StartService
from tests.api.test_client import base_url
from tests.helpers import complete, eventually, take

GARBAGE = [b'{"id":[]}', b'{"id":{"a":1}}', b'{"id":5}', b"not json", b"[]", b"\xff\xfe", b"{}", b'"x"', b"[1]", b""]


async def end_a_job(service: Service, settings: Settings) -> str:
    """Submit a job and hold a waiter on it; end the job by hand; return the waiter's answer status."""
    queue = Queue.from_settings(service.redis, settings)
    async with AsyncClient(base_url(service)) as client:
        job_id = (await client.submit("t")).id
        waiting = asyncio.create_task(client.get(job_id, wait_s=60))
        [job] = await take(queue, "w", 1)
        await complete(queue, "w", job, "s", "m")
        # Woken by the done event: a listener that had died would leave it to its 60 s.
        return (await asyncio.wait_for(waiting, 20)).status


async def test_garbage_on_the_result_channels_is_skipped_and_delivery_goes_on(
    start_service: StartService, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start_service(settings, worker=False)
    for payload in GARBAGE:
        await service.redis.publish(service.keys.channel, payload)
        await service.redis.publish(service.keys.progress_channel, payload)

    assert await end_a_job(service, settings) == "done"
    assert (await service.client.get("/readyz")).status == 200
    hub = service.client.app[HUB]
    assert hub.ignored == len(GARBAGE), "each counted on job_result (a progress wake-up is any id: it wakes nobody)"
    lines = [r for r in caplog.records if "ignored: not a job event" in r.getMessage()]
    assert len(lines) == 1, "one line for the flood, not one per message"


async def test_a_listener_that_fails_starts_again_and_readyz_says_so_meanwhile(
    start_service: StartService, settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await start_service(settings, worker=False)
    hub = service.client.app[HUB]
    failing = asyncio.Event()

    def broken(channel: bytes, data: object) -> None:
        failing.set()
        raise RuntimeError("a bug in the listener")

    monkeypatch.setattr(hub, "_dispatch", broken)
    await service.redis.publish(service.keys.channel, b'{"id": "x"}')
    await asyncio.wait_for(failing.wait(), 10)
    monkeypatch.undo()

    async def ready() -> bool:
        return (await service.client.get("/readyz")).status == 200

    await eventually(ready, what="/readyz 200 once the listener has subscribed again")
    assert await end_a_job(service, settings) == "done"
    assert any(r.levelno == logging.ERROR and "restarting" in r.getMessage() for r in caplog.records)
