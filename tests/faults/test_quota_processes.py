"""A tenant's request quota is one limit for every API process: two `python -m app` API
processes on one Redis, a tenant of 10 requests a minute, 30 requests alternating between
them: 10 accepted in all, 20 refused with 429, and another tenant untouched."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import aiohttp

from app.queue.contract import Keys
from tests.faults.processes import Private, Spawn
from tests.helpers import until_ok
from tests.redis_server import free_port

KEY, OTHER = "quota-key-0123456789abcdef", "other-key-0123456789abcdef"


async def test_two_api_processes_share_one_request_quota(
    private: Private, spawn: Spawn, keys: Keys, tmp_path: Path
) -> None:
    server, queue, _ = private
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(
        f'[tenants.acme]\nkeys = ["{KEY}"]\nrequests_per_minute = 10\n[tenants.other]\nkeys = ["{OTHER}"]\n'
    )
    ports = [free_port(), free_port()]
    env = {"ROLE": "api", "REDIS_URL": server.url, "QUEUE_NAME": keys.queue, "RESULT_CHANNEL": keys.channel}
    for i, port in enumerate(ports):
        spawn(f"api-{i}", **env, PORT=str(port), API_KEYS_FILE=str(tenants))
    for port in ports:
        await until_ok(f"http://127.0.0.1:{port}/healthz")
    answers: Counter[int] = Counter()
    async with aiohttp.ClientSession() as session:
        for i in range(30):
            url = f"http://127.0.0.1:{ports[i % 2]}/process"
            headers = {"Authorization": f"Bearer {KEY}"}
            async with session.post(url, json={"text": f"text {i}"}, headers=headers) as response:
                answers[response.status] += 1
                if response.status == 429:
                    assert response.headers["RateLimit-Policy"] == '"requests";q=10;w=60'
                    assert int(response.headers["Retry-After"]) >= 1
        other = {"Authorization": f"Bearer {OTHER}"}
        async with session.post(f"http://127.0.0.1:{ports[1]}/process", json={"text": "t"}, headers=other) as response:
            assert response.status == 202, "another tenant's quota is its own"
    assert answers == {202: 10, 429: 20}
    assert sum((await queue.reads.waiting()).values()) == 11, "the 20 refused wrote nothing"
