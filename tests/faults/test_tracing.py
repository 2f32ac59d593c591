"""One job's trace across real processes: an API and a worker (calling the fake Gemini server through
the real SDK), each exporting by OTLP/HTTP to a receiver in this test that decodes the protobuf
(opentelemetry-proto), as a collector would. The client's traceparent is the root: the API's request
span, its `intake`, and in the worker `job` with `queue wait`, the model call and `complete`, all one
trace with the right parents, the model call attributed per the GenAI semantic conventions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.fakes.gemini_server import FakeGemini
from tests.faults.processes import Private, Spawn, gemini_worker_env, worker_env
from tests.helpers import eventually, serving, until_ok
from tests.redis_server import free_port

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent: str
    attributes: dict[str, object]


class Collector:
    """An OTLP/HTTP traces endpoint: POST /v1/traces, protobuf in, spans kept."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    async def export(self, request: web.Request) -> web.Response:
        batch = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in batch.resource_spans:
            service = _attributes(resource_spans.resource.attributes).get("service.name", "")
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        Span(
                            str(service),
                            span.name,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            _attributes(span.attributes),
                        )
                    )
        body = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type="application/x-protobuf")

    def named(self, name: str) -> list[Span]:
        return [span for span in self.spans if span.name == name and span.trace_id == TRACE_ID]


def _attributes(pairs: object) -> dict[str, object]:
    found: dict[str, object] = {}
    for pair in pairs:  # type: ignore[attr-defined]
        value = pair.value
        found[pair.key] = getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
    return found


@pytest.fixture
async def collector() -> AsyncIterator[tuple[Collector, str]]:
    found, app = Collector(), web.Application()
    app.router.add_post("/v1/traces", found.export)
    async with serving(app) as base:
        yield found, base


async def test_one_job_is_one_trace_from_the_request_to_the_model_call(
    private: Private, spawn: Spawn, collector: tuple[Collector, str]
) -> None:
    server, queue, _ = private
    spans, endpoint = collector
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    api_port = free_port()
    async with FakeGemini() as gemini:
        env = gemini_worker_env(server, queue.keys, gemini.base_url, **otel)
        spawn("api", **env | {"ROLE": "api", "PORT": str(api_port)})
        spawn("worker", **env)
        await until_ok(f"http://127.0.0.1:{api_port}/healthz")
        headers = {"traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN}-01"}
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{api_port}/process?wait=20"
            async with http.post(url, json={"text": "Traces follow a job. Two sentences."}, headers=headers) as got:
                assert got.status == 200, await got.text()
                job = await got.json()

        def whole() -> bool:
            return all(spans.named(name) for name in ("intake", "job", "queue wait", "complete")) and any(
                span.name.startswith("generate_content") and span.trace_id == TRACE_ID for span in spans.spans
            )

        await eventually(whole, timeout_s=20, what="every span of the job at the collector")
    [request] = [s for s in spans.spans if s.trace_id == TRACE_ID and s.parent == CLIENT_SPAN]
    [intake], [worked], [waited], [completed] = (spans.named(n) for n in ("intake", "job", "queue wait", "complete"))
    [call] = [s for s in spans.spans if s.name.startswith("generate_content") and s.trace_id == TRACE_ID]
    assert request.service == intake.service == "summarize-queue-api" and "POST" in request.name
    assert worked.service == call.service == "summarize-queue-worker"
    assert intake.parent == request.span_id, "intake is the request's child"
    assert worked.parent == intake.span_id, "the worker's job span is intake's child, across the queue"
    assert waited.parent == call.parent == completed.parent == worked.span_id
    assert worked.attributes["job.id"] == job["id"]
    assert call.name == "generate_content gemini-flash-latest", "the operation and the model asked for (GEMINI_MODEL)"
    assert call.attributes["gen_ai.request.model"] == "gemini-flash-latest"
    assert call.attributes["gen_ai.response.model"] == job["model"], "the model that answered, as the record says"
    assert call.attributes["gen_ai.usage.input_tokens"] == job["prompt_tokens"]
    assert call.attributes["gen_ai.usage.output_tokens"] == job["output_tokens"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "trace-tree.txt").write_text(tree(spans.spans, CLIENT_SPAN))  # as a tracing UI would nest it
    redis_spans = [s for s in spans.spans if s.trace_id == TRACE_ID and s.attributes.get("db.system") == "redis"]
    assert any(s.parent == intake.span_id for s in redis_spans), "redis-py instrumented: the enqueue is a span"


def tree(spans: list[Span], root: str, depth: int = 0) -> str:
    """The trace's spans nested under their parents: name, service, and the GenAI attributes."""
    lines = []
    for span in sorted((s for s in spans if s.trace_id == TRACE_ID and s.parent == root), key=lambda s: s.name):
        gen_ai = {k: v for k, v in span.attributes.items() if k.startswith("gen_ai.")}
        lines.append(f"{'  ' * depth}{span.name}  [{span.service}]{'  ' + str(gen_ai) if gen_ai else ''}\n")
        lines.append(tree(spans, span.span_id, depth + 1))
    return "".join(lines)


async def test_jobs_with_no_trace_context_are_each_a_trace_of_their_own(
    private: Private, spawn: Spawn, collector: tuple[Collector, str]
) -> None:
    """A foreign producer's messages carry no traceparent: each job is a root, never the child of the
    job whose slot it took (the next job starts from a freed slot, inside that job's span)."""
    server, queue, _ = private
    spans, endpoint = collector
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    for i in range(8):
        await queue.redis.lpush(queue.keys.queue, f'{{"text": "foreign text {i}. Two sentences."}}')
    spawn("worker", **worker_env(server, queue.keys, WORKER_CONCURRENCY="2", WORKER_PREFETCH="2", **otel))
    await eventually(lambda: len([s for s in spans.spans if s.name == "job"]) == 8, timeout_s=20, what="8 job spans")
    jobs = [s for s in spans.spans if s.name == "job"]
    assert all(s.parent == "" for s in jobs), "each a root"
    assert len({s.trace_id for s in jobs}) == 8, "each its own trace"
