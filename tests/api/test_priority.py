"""Priorities and fair share through the API: a `high` job posted behind a backlog starts at the
next free slot, and two tenants' backlogs take turns, by the weight the keys file gives."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings
from tests.api.conftest import StartService
from tests.api.test_tenants import ALPHA, BETA, auth
from tests.conftest import with_
from tests.fakes.summarizers import Recorder
from tests.helpers import eventually


async def test_a_high_job_posted_behind_a_backlog_starts_next(start_service: StartService, settings: Settings) -> None:
    model = Recorder(gated=True)
    service = await start_service(with_(settings, worker_concurrency=1), model)
    client = service.client
    for i in range(5):
        assert (await client.post("/process", json={"text": f"bulk {i}"})).status == 202
    await eventually(lambda: _started(model, 1), what="the first job in its call")
    response = await client.post("/process", json={"text": "urgent", "priority": "high"})
    assert response.status == 202
    assert (await response.json())["status"] == "queued"
    model.gate.set()
    await eventually(lambda: _started(model, 6), what="every job started")
    assert model.calls == ["bulk 0", "urgent", "bulk 1", "bulk 2", "bulk 3", "bulk 4"]


async def _started(model: Recorder, count: int) -> bool:
    return len(model.calls) >= count


async def test_tenants_take_turns_by_their_weight(
    start_service: StartService, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(f'[tenants.alpha]\nkeys = ["{ALPHA}"]\nweight = 2\n[tenants.beta]\nkeys = ["{BETA}"]\n')
    keyed = with_(settings, api_keys_file=str(path), worker_concurrency=1)
    model = Recorder(gated=True)
    service = await start_service(keyed, model)
    client = service.client
    assert (await client.post("/process", json={"text": "first"}, headers=auth(BETA))).status == 202
    await eventually(lambda: _started(model, 1), what="the first job in its call")
    for i in range(6):
        assert (await client.post("/process", json={"text": f"a{i}"}, headers=auth(ALPHA))).status == 202
    for i in range(3):
        assert (await client.post("/process", json={"text": f"b{i}"}, headers=auth(BETA))).status == 202
    assert await service.redis.hget(service.keys.weights, "alpha") == b"2", "intake told the workers alpha's weight"
    model.gate.set()
    await eventually(lambda: _started(model, 10), what="every job started")
    turns = "".join(text[0] for text in model.calls[1:])
    assert [sorted(turns[i : i + 3]) for i in range(0, 9, 3)] == [["a", "a", "b"]] * 3, f"2 to 1 in every 3: {turns}"
