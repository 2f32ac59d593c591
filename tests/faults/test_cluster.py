"""The queue on a real three-master Redis Cluster started by the test (REDIS_URL=redis+cluster://):
every key of a queue in one slot, on one node; the client finds that node from any seed and
follows the slot when the cluster moves it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import orjson
import pytest
import redis
from aiohttp.test_utils import TestClient
from redis.crc import key_slot

from app.config import Settings
from app.connection.factory import RedisFactory
from app.model.summarizers.extractive import ExtractiveSummarizer
from app.queue.contract import Keys, Priority
from app.queue.message import new_message
from app.queue.replies import Cancelled
from app.queue.store import Queue
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.helpers import TIMING, read_events, take
from tests.redis_server import RedisCluster, RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    servers = RedisCluster(tmp_path_factory.mktemp("cluster"))
    servers.start()
    yield servers
    servers.stop()


def owner(cluster: RedisCluster, key: str) -> RedisServer:
    slot = key_slot(key.encode())
    with redis.Redis(port=cluster.nodes[0].port) as seed:
        for start, end, master, *_ in seed.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return next(node for node in cluster.nodes if node.port == int(master[1]))
    raise AssertionError(f"no node serves slot {slot}")


def queue_on(cluster: RedisCluster, node: RedisServer) -> str:
    """A fresh queue name whose keys live on `node`."""
    while owner(cluster, name := f"q{uuid.uuid4().hex[:10]}") is not node:
        pass
    return name


def cluster_settings(settings: Settings, cluster: RedisCluster, queue: str) -> Settings:
    return with_(settings, redis_url=cluster.url, redis_cluster=True, queue_name=queue, result_channel=f"{queue}_res")


async def process(client: TestClient, text: str) -> dict[str, object]:
    response = await client.post("/process?wait=20", json={"text": text})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_jobs_run_end_to_end_on_a_node_the_seed_url_does_not_name(
    start_service: StartService, settings: Settings, cluster: RedisCluster
) -> None:
    far = cluster.nodes[2]  # the URL names only nodes[0]
    settings = cluster_settings(settings, cluster, queue_on(cluster, far))
    service = await start_service(settings, ExtractiveSummarizer())
    texts = [f"Text {i} is here. It has a second sentence. And a third one to rank." for i in range(20)]
    jobs = await asyncio.gather(*(process(service.client, text) for text in texts))
    assert {job["status"] for job in jobs} == {"done"}
    with redis.Redis(port=far.port) as node:  # the records are where the slot is
        assert all(node.exists(Keys(settings.queue_name, "").job(str(job["id"]))) for job in jobs)
    async with service.client.get(f"/jobs/{jobs[0]['id']}/events") as response:
        events = await read_events(response)
    assert [e.event for e in events] == ["progress", "done"]  # streams and Pub/Sub work there too
    stats = await (await service.client.get("/stats")).json()
    assert (stats["queued"], stats["processing"]) == (0, 0)


@pytest.fixture
async def cluster_queue(settings: Settings, cluster: RedisCluster) -> AsyncIterator[Queue]:
    settings = cluster_settings(settings, cluster, queue_on(cluster, cluster.nodes[1]))
    client = RedisFactory(settings).client()
    yield Queue(client, Keys(settings.queue_name, settings.result_channel), result_ttl_s=60)
    await client.aclose()


async def test_retry_dead_list_and_recovery_transitions_run_on_a_cluster(cluster_queue: Queue) -> None:
    queue = cluster_queue
    retried, failed, orphaned = (new_message(f"job {i}") for i in range(3))
    for message in (retried, failed, orphaned):
        await queue.producer.enqueue(message)
    held = await take(queue, "a", 3)
    by_id = {job.message.id: job for job in held}
    await queue.transitions.beat("a", 0.2, b"{}")
    assert await queue.transitions.retry("a", by_id[retried.id], "429", delay_s=0)
    assert await queue.transitions.promote_due() == 1
    assert await queue.transitions.fail("a", by_id[failed.id], "no", TIMING)
    await asyncio.sleep(0.3)  # worker "a" stops beating: its heartbeat lapses
    assert await queue.transitions.orphaned_workers("b") == ["a"]
    assert await queue.transitions.requeue("a", orphan=True) == 1
    assert sorted(orjson.loads(raw)["id"] for raw in await queue.redis.lrange(queue.keys.queue, 0, -1)) == sorted(
        [retried.id, orphaned.id]
    )
    assert await queue.dead.requeue(failed.id) == (1, [])
    assert await queue.dead.purge() == 0


def move_slot(cluster: RedisCluster, key: str, to: RedisServer) -> None:
    """Migrate `key`'s slot, with its keys, to node `to`, as `redis-cli --cluster reshard` does."""
    source, slot = owner(cluster, key), str(key_slot(key.encode()))
    source_id, target_id = (cluster.cli(node, "CLUSTER", "MYID").strip() for node in (source, to))
    cluster.cli(to, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    cluster.cli(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    while keys := cluster.cli(source, "CLUSTER", "GETKEYSINSLOT", slot, "100").split():
        cluster.cli(source, "MIGRATE", "127.0.0.1", str(to.port), "", "0", "5000", "KEYS", *keys)
    for node in cluster.nodes:
        cluster.cli(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id)


async def test_the_api_and_the_worker_follow_the_queue_when_its_slot_moves(
    start_service: StartService, settings: Settings, cluster: RedisCluster
) -> None:
    before, after = cluster.nodes[1], cluster.nodes[2]
    settings = cluster_settings(settings, cluster, queue_on(cluster, before))
    service = await start_service(settings, ExtractiveSummarizer())
    first = await process(service.client, "Before the move. A second sentence.")
    await asyncio.to_thread(move_slot, cluster, settings.queue_name, after)
    second = await process(service.client, "After the move. A second sentence.")
    assert (first["status"], second["status"]) == ("done", "done")
    record = await (await service.client.get(f"/jobs/{first['id']}")).json()
    assert record["status"] == "done"  # moved with its slot
    with redis.Redis(port=after.port) as node:
        assert node.exists(Keys(settings.queue_name, "").job(str(second["id"])))


async def test_lanes_wake_tokens_and_cancel_run_on_a_cluster(cluster_queue: Queue) -> None:
    """reserve.lua and promote_due.lua name lanes from the rings: keys of the queue's slot, on its node."""
    queue = cluster_queue
    bulk = new_message("bulk")
    urgent = new_message("urgent", tenant="acme", priority=Priority.HIGH)
    low = new_message("low", priority=Priority.LOW)
    for message in (bulk, low, urgent):
        await queue.producer.enqueue(message)
    [first] = await take(queue, "a")
    assert first.message.id == urgent.id
    assert await queue.transitions.retry("a", first, "429", delay_s=0)
    assert await queue.transitions.promote_due() == 1
    assert [job.message.id for job in await take(queue, "a", 3)] == [urgent.id, bulk.id, low.id]
    assert (await queue.producer.cancel(bulk.id, {}))[0] == Cancelled.CANCELLED
    assert (await queue.reads.waiting()) == {}
