"""Webhooks through the real API, a real worker and a real receiver on this host: each ending
(done, failed, cancelled, expired) delivered once, signed per Standard Webhooks (verified with the
`standardwebhooks` package, as a receiver would), retried with the same webhook-id, given up and
re-sent from the CLI; callback URLs that would reach this host's own network refused at intake and
again at delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from app.cli import run_cli
from app.client import AsyncClient, InvalidRequest
from app.config import Settings
from app.model.summarizers.base import SummarizerError, Summary
from app.model.summarizers.testing import NoopSummarizer
from app.options import Options
from tests.api.conftest import StartService
from tests.api.test_client import base_url
from tests.conftest import with_
from tests.helpers import eventually, serving

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TEXT = "Webhooks call a receiver back. This text asks for one when its job ends."


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1 that keeps each request and answers from `answers` (then 204)."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    got: list[Delivery] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(Delivery(dict(request.headers), await request.read()))
        async with self.arrived:
            self.arrived.notify_all()
        return web.Response(status=self.answers.pop(0) if self.answers else 204)

    async def until(self, count: int, timeout_s: float = 15) -> list[Delivery]:
        async with asyncio.timeout(timeout_s), self.arrived:
            await self.arrived.wait_for(lambda: len(self.got) >= count)
        return self.got


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found, app = Receiver(), web.Application()
    app.router.add_post("/hooks", found.handle)
    async with serving(app) as base:
        found.url = f"{base}/hooks"
        yield found


def hooked(settings: Settings, receiver: Receiver, **changes: object) -> Settings:
    """Webhooks on, to the receiver: listed by name with http (a host inside, on purpose)."""
    listed = f"http://{receiver.url.split('/')[2]}"
    return with_(settings, webhook_allowed_hosts=(listed,), webhook_secret=SECRET, webhook_backoff_s=0.05, **changes)


def verified(delivery: Delivery) -> dict[str, object]:
    """The payload, as a receiver checks it: signature and timestamp per the spec, or an exception."""
    payload = Webhook(SECRET).verify(delivery.body, delivery.headers)
    assert isinstance(payload, dict)
    return payload


class Failing(NoopSummarizer):
    async def summarize(self, text: str, options: Options, emit: object) -> Summary:
        raise SummarizerError("the model refused this text (a test)", transient=False)


async def test_a_done_job_is_delivered_once_signed_with_its_record(
    start_service: StartService, settings: Settings, receiver: Receiver
) -> None:
    service = await start_service(hooked(settings, receiver))
    async with AsyncClient(base_url(service)) as client:
        job = await client.submit(TEXT, callback_url=receiver.url)
        done = await client.wait(job.id, timeout_s=15)
        [delivery] = await receiver.until(1)
        payload = verified(delivery)
        assert payload["type"] == "job.done" and payload["data"]["id"] == job.id  # type: ignore[index]
        assert payload["data"]["summary"] == done.summary and payload["data"]["status"] == "done"  # type: ignore[index]
        assert delivery.headers["webhook-id"] == f"msg_{job.id}_{round(float(done.record['finished_at']) * 1000)}"
        assert payload["timestamp"].startswith(time.strftime("%Y-%m-%dT", time.gmtime())), "when it ended"
        assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 60

        async def delivered() -> bool:
            return (await client.get(job.id)).record.get("webhook") == "delivered"

        await eventually(delivered, what="the record says delivered")
        record = (await client.get(job.id)).record
        assert record["webhook_attempts"] == 1 and record["callback_url"] == receiver.url
    assert len(receiver.got) == 1, "delivered once"


async def test_failed_cancelled_and_expired_endings_are_delivered_too(
    start_service: StartService, settings: Settings, receiver: Receiver
) -> None:
    hooks = hooked(settings, receiver)
    api = await start_service(hooks, worker=False)  # nothing runs yet: one job to cancel, one to expire
    async with AsyncClient(base_url(api)) as client:
        cancelled = await client.submit(TEXT + " Cancel me.", callback_url=receiver.url)
        await client.cancel(cancelled.id)
        expired = await client.submit(TEXT + " Expire me.", callback_url=receiver.url, expires_in=0.001)
        await asyncio.sleep(0.01)  # its expiry passes (a clock, not a race)
        await start_service(hooks, Failing())  # a worker: expires one, fails the next, delivers all three
        failed = await client.submit(TEXT + " Fail me.", callback_url=receiver.url)
        await client.wait(failed.id, timeout_s=15)
        deliveries = await receiver.until(3)
    kinds = {verified(d)["data"]["id"]: verified(d)["type"] for d in deliveries}  # type: ignore[index]
    assert kinds == {cancelled.id: "job.cancelled", expired.id: "job.expired", failed.id: "job.failed"}


async def test_a_failing_receiver_is_retried_under_the_same_id_then_given_up_then_resent(
    start_service: StartService, settings: Settings, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.answers = [500, 503, 500]
    service = await start_service(hooked(settings, receiver, webhook_max_attempts=3))
    async with AsyncClient(base_url(service)) as client:
        job = await client.submit(TEXT, callback_url=receiver.url)
        await receiver.until(3)

        async def dead() -> bool:
            return (await client.get(job.id)).record.get("webhook") == "dead"

        await eventually(dead, what="the delivery given up after WEBHOOK_MAX_ATTEMPTS")
        record = (await client.get(job.id)).record
        assert record["webhook_attempts"] == 3 and "HTTP 500" in str(record["webhook_error"])
        stats = await (await service.client.get("/stats")).json()
        assert stats["webhooks"] == {"pending": 0, "dead": 1}

        # The operator's CLI, on the same REDIS_URL and QUEUE_NAME as the service
        assert await run_cli(settings, ["webhooks", "dead"]) == 0
        assert job.id in capsys.readouterr().out
        assert await run_cli(settings, ["webhooks", "resend", job.id]) == 0
        deliveries = await receiver.until(4)

        async def delivered() -> bool:
            return (await client.get(job.id)).record.get("webhook") == "delivered"

        await eventually(delivered, what="the resent delivery recorded")
    [message_id] = {d.headers["webhook-id"] for d in deliveries}
    assert message_id.startswith(f"msg_{job.id}_"), "one id for every attempt, and the resend"
    assert all(verified(d)["data"]["id"] == job.id for d in deliveries)  # type: ignore[index]


@pytest.mark.parametrize(
    ("allowed", "url", "says"),
    [
        ((), "https://hooks.example.com/x", "webhooks are off"),
        (("*",), "http://hooks.example.com/x", "plain http"),
        (("*",), "https://127.0.0.1:9/x", "loopback"),
        (("*",), "https://localhost:9/x", "loopback"),
        (("*",), "https://[::ffff:10.0.0.1]/x", "private"),
        (("*.example.com",), "https://example.org/x", "not in WEBHOOK_ALLOWED_HOSTS"),
        (("*",), "https://user:pw@hooks.example.com/x", "credentials"),
        (("*",), "ftp://hooks.example.com/x", "https://"),
        (("hooks.example.com:8443",), "https://hooks.example.com/x", "not in WEBHOOK_ALLOWED_HOSTS"),
    ],
)
async def test_a_callback_that_could_reach_inside_is_refused_and_nothing_is_enqueued(
    start_service: StartService, settings: Settings, allowed: tuple[str, ...], url: str, says: str
) -> None:
    service = await start_service(with_(settings, webhook_allowed_hosts=allowed, webhook_secret=SECRET), worker=False)
    async with AsyncClient(base_url(service)) as client:
        with pytest.raises(InvalidRequest) as refused:
            await client.submit(TEXT, callback_url=url)
    problem = refused.value.problem
    assert (refused.value.status, problem["type"].rsplit("/", 1)[-1], problem["field"]) == (
        422, "invalid-callback-url", "callback_url",
    )  # fmt: skip
    assert says in problem["detail"]
    assert await service.queued() == 0 and await service.job_keys() == [], "nothing written"


async def test_a_name_that_resolves_inside_by_delivery_time_is_not_called(
    start_service: StartService, settings: Settings, receiver: Receiver
) -> None:
    """DNS that changed after intake (rebinding): the delivery resolves the name again, and an
    address webhooks may not reach is refused at connect time; the receiver hears nothing."""
    port = receiver.url.split(":")[2].split("/")[0]
    hooks = with_(hooked(settings, receiver, webhook_max_attempts=2), webhook_allowed_hosts=("http://*",))
    service = await start_service(hooks)
    async with AsyncClient(base_url(service)) as client:
        job = await client.submit(TEXT)
        await client.wait(job.id, timeout_s=15)
    # As if intake had checked it when the name still resolved outside: written straight to the record,
    # then the job ends again through the outbox (the delivery is what is under test).
    await service.redis.hset(service.keys.job(job.id), "callback_url", f"http://localhost:{port}/hooks")
    await service.redis.zadd(service.keys.webhooks, {job.id: time.time()})

    async def dead() -> bool:
        return (await service.redis.hget(service.keys.job(job.id), "webhook")) == b"dead"

    await eventually(dead, what="the delivery refused, then given up")
    error = (await service.redis.hget(service.keys.job(job.id), "webhook_error") or b"").decode()
    assert "loopback" in error, error
    assert receiver.got == [], "the receiver inside was never called"


async def test_a_job_run_again_from_the_dead_list_calls_back_again_under_a_new_id(
    start_service: StartService, settings: Settings, receiver: Receiver
) -> None:
    """Each ending is its own message: a receiver deduplicating by webhook-id still hears the second."""
    hooks = hooked(settings, receiver)
    await start_service(hooks, Failing())
    api = await start_service(hooks, worker=False)
    async with AsyncClient(base_url(api)) as client:
        job = await client.submit(TEXT, callback_url=receiver.url)
        assert (await client.wait(job.id, timeout_s=15)).status == "failed"
        [first] = await receiver.until(1)
        assert await run_cli(settings, ["dead", "requeue", job.id]) == 0  # runs on the failing worker again
        [_, second] = await receiver.until(2)
    assert verified(first)["type"] == verified(second)["type"] == "job.failed"
    assert first.headers["webhook-id"] != second.headers["webhook-id"], "two endings, two messages"
    assert verified(second)["data"]["attempts"] == 1, "the run anew, its attempts counted afresh"  # type: ignore[index]


async def test_an_idempotency_key_stands_for_its_callback_too(
    start_service: StartService, settings: Settings, receiver: Receiver
) -> None:
    service = await start_service(hooked(settings, receiver), worker=False)
    async with AsyncClient(base_url(service)) as client:
        first = await client.submit(TEXT, callback_url=receiver.url, idempotency_key="order-1")
        again = await client.submit(TEXT, callback_url=receiver.url, idempotency_key="order-1")
        assert again.id == first.id, "the same request: the same job"
        with pytest.raises(InvalidRequest) as reused:
            await client.submit(TEXT, callback_url=receiver.url + "?other", idempotency_key="order-1")
    assert reused.value.kind == "idempotency-key-reused" and reused.value.problem["job_id"] == first.id
    assert await service.queued() == 1
