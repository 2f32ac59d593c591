"""app.client, the Python client, against the real API (an in-process service on a real port):
submit, get, wait (on the server, no polling), stream, cancel, and the problem of each refusal as
its own exception type; the same through the client for code without an event loop."""

from __future__ import annotations

import asyncio

import pytest

from app.client import AsyncClient, Client, InvalidRequest, JobEnded, NotFound, Unauthorized
from app.config import Settings
from tests.api.conftest import SUMMARY, StartService, start_on_gemini
from tests.conftest import with_
from tests.fakes.gemini_server import FakeGemini


def base_url(service: object) -> str:
    return str(service.client.make_url("/")).rstrip("/")  # type: ignore[attr-defined]


async def test_submit_wait_get_and_the_problems_of_refusals(start_service: StartService, settings: Settings) -> None:
    service = await start_service(settings)
    async with AsyncClient(base_url(service)) as client:
        job = await client.submit("A text to summarize. It has two sentences.", max_words=20)
        assert job.status == "queued" and job.id
        done = await client.wait(job.id, timeout_s=15)
        assert (done.status, done.final) == ("done", True) and done.summary
        assert (await client.get(job.id)).record == done.record
        with pytest.raises(InvalidRequest) as invalid:
            await client.submit("A text.", max_words=5)
        assert (invalid.value.status, invalid.value.kind, invalid.value.problem["field"]) == (
            422, "invalid-option", "max_words",
        )  # fmt: skip
        with pytest.raises(JobEnded) as ended:
            await client.cancel(job.id)
        assert ended.value.problem["job_status"] == "done"
        with pytest.raises(NotFound):
            await client.get("no-such-job")
    assert await service.queued() == 0


async def test_stream_yields_the_summary_as_it_is_written_then_its_ending(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    service = await start_on_gemini(start_service, settings, gemini)
    async with AsyncClient(base_url(service)) as client:
        job = await client.submit("Foxes and dogs and birds. A text.", stream=True)
        events = [event async for event in client.stream(job.id)]
    pieces = [event.data["delta"] for event in events if event.event == "progress"]
    assert len(pieces) > 1 and "".join(pieces) == SUMMARY, "the summary in pieces, as written"
    assert events[-1].event == "done" and events[-1].data["summary"] == SUMMARY


async def test_the_client_without_an_event_loop_does_the_same(start_service: StartService, settings: Settings) -> None:
    service = await start_service(with_(settings, api_keys=("secret-key",)))
    url = base_url(service)

    def without_a_loop() -> tuple[str, str | None, list[tuple[str, object]]]:
        with Client(url, api_key="secret-key") as client:
            job = client.submit("A text for the client without a loop. Two sentences.")
            done = client.wait(job.id, timeout_s=15)
            events = [(event.event, event.data.get("delta")) for event in client.stream(job.id)]
        with Client(url) as anonymous, pytest.raises(Unauthorized):
            anonymous.get(job.id)
        return done.status, done.summary, events

    status, summary, events = await asyncio.to_thread(without_a_loop)
    assert status == "done" and summary
    assert events == [("progress", summary), ("done", None)], "an ended job's stream: the whole summary, the end"
