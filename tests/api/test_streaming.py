"""GET /jobs/{id}/events (Server-Sent Events) and the options of POST /process, through the
real google-genai SDK streaming from the fake Gemini server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import orjson
import pytest

from app.config import Settings
from app.model.summarizers.gemini import GeminiSummarizer
from tests.api.conftest import Service, StartService
from tests.fakes.gemini_server import Answer, Delay, FakeGemini
from tests.helpers import SseEvent, read_events

SUMMARY = "Foxes jump. Dogs sleep. Birds sing in the tall trees all day long."


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini(default=Answer(text=SUMMARY, chunks=5, chunk_delay_s=0.1)) as server:
        yield server


async def start(start_service: StartService, settings: Settings, gemini: FakeGemini) -> Service:
    summarizer = GeminiSummarizer("k", f"gemini-{settings.queue_name}", gemini.base_url, 30)
    return await start_service(settings, summarizer)


async def submit(service: Service, **body: object) -> str:
    response = await service.client.post("/process", json={"text": "A text about animals.", **body})
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


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_words": 5}, "max_words"),
        ({"max_words": 1001}, "max_words"),
        ({"max_words": "50"}, "max_words"),
        ({"max_words": True}, "max_words"),
        ({"format": "table"}, "format"),
        ({"format": ["bullets"]}, "format"),
        ({"language": "english"}, "language"),
        ({"language": "xx"}, "language"),
        ({"language": 7}, "language"),
    ],
)
async def test_invalid_options_are_422_problems_and_enqueue_nothing(
    start_service: StartService, settings: Settings, gemini: FakeGemini, body: dict[str, object], field: str
) -> None:
    service = await start(start_service, settings, gemini)
    response = await service.client.post("/process", json={"text": "A text.", **body})
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert (problem["type"], problem["field"]) == ("/problems/invalid-option", field)
    assert field in problem["detail"]
    assert await service.job_keys() == []


async def test_options_reach_the_prompt_and_change_the_cache_key(
    start_service: StartService, settings: Settings, gemini: FakeGemini
) -> None:
    gemini.default = Answer(text=SUMMARY)
    service = await start(start_service, settings, gemini)
    text = "A text about animals."
    for body in ({}, {"max_words": 30, "format": "bullets", "language": "de-AT"}, {}):
        response = await service.client.post("/process?wait=30", json={"text": text, **body})
        assert (await response.json())["status"] == "done"
    plain, shaped = gemini.calls  # the third was the first's cached answer
    assert "at most 30 words" in shaped.system_instruction
    assert "bulleted list" in shaped.system_instruction
    assert "'de-AT'" in shaped.system_instruction
    assert "same language" in plain.system_instruction
