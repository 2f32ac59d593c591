"""A worker killed with kill -9 in the middle of a webhook delivery (its receiver has the request
and has not answered): the delivery still happens, from another worker once the lease runs out,
under the same webhook-id, so a receiver that deduplicates by it sees the job's ending once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from app.queue.message import new_message
from app.queue.producer import Enqueue
from tests.faults.processes import Private, Spawn, worker_env
from tests.helpers import eventually, serving

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class HangsFirst:
    """Keeps every request; never answers the first (its worker dies holding it), 204 after."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.first_in = asyncio.Event()
        self.second_in = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((dict(request.headers), await request.read()))
        if len(self.got) == 1:
            self.first_in.set()
            await asyncio.Event().wait()  # until the test ends (the client side is killed)
        self.second_in.set()
        return web.Response(status=204)


@pytest.fixture
async def hangs_first() -> AsyncIterator[tuple[HangsFirst, str]]:
    receiver, app = HangsFirst(), web.Application()
    app.router.add_post("/hooks", receiver.handle)
    async with serving(app) as base:
        yield receiver, f"{base}/hooks"


async def test_a_worker_killed_mid_delivery_does_not_lose_it(
    private: Private, spawn: Spawn, hangs_first: tuple[HangsFirst, str]
) -> None:
    server, queue, _ = private
    receiver, url = hangs_first
    hooks = {
        "WEBHOOK_ALLOWED_HOSTS": url.rsplit("/", 1)[0],
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_TIMEOUT": "2",  # the lease: 2 s + 5 s of slack before another worker retakes it
        "SLEEP_SUMMARIZER_S": "0",
    }
    message = new_message("A text whose ending is called back. Two sentences.")
    [admitted] = await queue.producer.enqueue_many([Enqueue(message, callback_url=url)])
    assert admitted.refused is None
    first = spawn("first", **worker_env(server, queue.keys, **hooks))
    await asyncio.wait_for(receiver.first_in.wait(), 30)
    first.send_signal(signal.SIGKILL)
    await asyncio.to_thread(first.wait)

    spawn("second", **worker_env(server, queue.keys, **hooks))
    await asyncio.wait_for(receiver.second_in.wait(), 30)

    async def delivered() -> bool:
        return (await queue.reads.get_job(message.id) or {}).get("webhook") == "delivered"

    await eventually(delivered, timeout_s=10, what="the record says delivered")
    record = await queue.reads.get_job(message.id)
    assert record is not None and record["webhook_attempts"] == 2, "the killed attempt counts"
    ids = {headers["webhook-id"] for headers, _ in receiver.got}
    assert len(ids) == 1 and ids.pop().startswith(f"msg_{message.id}_"), "both attempts under one id"
    for headers, body in receiver.got:
        assert Webhook(SECRET).verify(body, headers)["data"]["id"] == message.id
    assert await queue.redis.zcard(queue.keys.webhooks) == 0
