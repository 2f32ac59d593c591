"""GET /jobs/{id}/events (Server-Sent Events), through the real google-genai SDK streaming from
the fake Gemini server."""

from __future__ import annotations

import asyncio
import time

import orjson

from app.client import AsyncClient
from app.config import Settings
from tests.api.conftest import SUMMARY, Service, StartService
from tests.api.conftest import start_on_gemini as start
from tests.api.test_client import base_url
from tests.fakes.gemini_server import Delay, FakeGemini
from tests.helpers import SseEvent, read_events


async def submit(service: Service, **body: object) -> str:
    """A job that asks to be streamed: its follower, opening the stream just after, gets every piece."""
    body = {"text": "A text about animals.", "stream": True, **body}
    response = await service.client.post("/process", json=body)
    assert response.status == 202, await response.text()
    return str((await response.json())["id"])


async def events(service: Service, job_id: str, last_event_id: str | None = None) -> list[SseEvent]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with service.client.get(f"/jobs/{job_id}/events", headers=headers) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        return await read_events(response)


def deltas(received: list[SseEvent]) -> str:
    return "".join(orjson.loads(e.data)["delta"] for e in received if e.event == "progress")


async def test_pieces_arrive_in_order_and_make_the_summary_then_done_closes_the_stream(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    service = await start(start_service, settings, gemini)
    job_id = await submit(service)
    asked = time.monotonic()
    async with service.client.get(f"/jobs/{job_id}/events") as response:
        [first] = await read_events(response, most=1)
        first_delta_s = time.monotonic() - asked
        received = [first, *await read_events(response)]
    assert [e.event for e in received] == ["progress"] * 5 + ["done"]
    assert deltas(received) == SUMMARY
    done = orjson.loads(received[-1].data)
    assert (done["id"], done["status"], done["summary"], received[-1].id) == (job_id, "done", SUMMARY, "end")
    ids = [e.id for e in received[:-1]]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, str(i).split("-"))))
    print(f"time to first delta: {first_delta_s * 1000:.1f} ms")


async def test_a_client_that_reconnects_with_last_event_id_gets_only_what_it_missed(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    service = await start(start_service, settings, gemini)
    job_id = await submit(service)
    async with service.client.get(f"/jobs/{job_id}/events") as response:
        before = await read_events(response, most=2)  # then the connection drops
    after = await events(service, job_id, last_event_id=before[-1].id)
    assert [e.event for e in after] == ["progress"] * 3 + ["done"]
    assert {e.id for e in before}.isdisjoint(e.id for e in after)
    assert deltas(before) + deltas(after) == SUMMARY
    # An EventSource reconnects after the end too: 204 tells it to stop.
    gone = await service.client.get(f"/jobs/{job_id}/events", headers={"Last-Event-ID": "end"})
    assert gone.status == 204


async def test_a_client_after_the_end_gets_the_summary_from_the_record_and_many_clients_the_same(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    service = await start(start_service, settings, gemini)
    job_id = await submit(service)
    live = await asyncio.gather(*(events(service, job_id) for _ in range(5)))
    assert all(received == live[0] for received in live)
    assert await service.redis.exists(service.keys.stream(job_id)) == 0, "a finished job keeps only its record"
    replay = await events(service, job_id)
    assert [(e.event, e.id) for e in replay] == [("progress", "0-1"), ("done", "end")]
    assert deltas(replay) == SUMMARY, "the whole summary, from the record"
    assert replay[-1] == live[0][-1]
    # A client that saw some pieces and comes back after the end: the ending has the rest.
    resumed = await events(service, job_id, last_event_id=live[0][1].id)
    assert resumed == [live[0][-1]]


async def test_unknown_job_is_404_problem(start_service: StartService, settings: Settings, gemini: FakeGemini) -> None:
    service = await start(start_service, settings, gemini)
    response = await service.client.get("/jobs/no-such-job/events")
    assert response.status == 404
    assert response.content_type == "application/problem+json"


async def test_open_streams_close_cleanly_on_server_shutdown(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.default = Delay(30)
    service = await start(start_service, settings, gemini)
    job_id = await submit(service)
    async with service.client.get(f"/jobs/{job_id}/events") as response:
        closing = asyncio.create_task(service.client.server.close())
        async with asyncio.timeout(5):
            received = await read_events(response)  # ends when the server ends the stream
        await closing
    assert received == []


async def test_a_job_nobody_follows_gets_a_plain_call_and_a_late_follower_the_whole_summary(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    service = await start(start_service, settings, gemini)
    job_id = await submit(service, stream=False)
    async with AsyncClient(base_url(service)) as client:
        assert (await client.get(job_id, wait_s=10)).status == "done"
    assert [call.stream for call in gemini.calls] == [False], "no listener: generate_content, not the stream"
    late = await events(service, job_id)
    assert [e.event for e in late] == ["progress", "done"] and deltas(late) == SUMMARY


async def test_a_stream_opened_before_the_job_starts_makes_its_call_stream(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    api = await start_service(settings, worker=False)
    job_id = await submit(api, stream=False)
    async with api.client.get(f"/jobs/{job_id}/events") as response:
        first = asyncio.create_task(read_events(response))
        await start(start_service, settings, gemini)  # a worker comes after the listener
        async with asyncio.timeout(10):
            received = await first
    assert [call.stream for call in gemini.calls] == [True]
    assert [e.event for e in received] == ["progress"] * 5 + ["done"]
