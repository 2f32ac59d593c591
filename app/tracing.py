"""OpenTelemetry tracing, off unless the standard OTEL_* variables configure an OTLP endpoint.

One trace per job across processes: the API's request span (aiohttp instrumented), its `intake`
span, whose W3C traceparent travels in the message's `trace` field (a foreign producer may set
its own), and in the worker a `job` span, its child, holding `queue wait` (from the enqueue to the
start), the model call (named and attributed per the GenAI semantic conventions) and `complete`
(the ending's write); redis-py's commands are spans too (instrumented). When tracing is off none
of this is imported, and the hot path pays one `is None` test per job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import Span, Tracer

    from app.model.summarizers.base import Summary
    from app.queue.message import Message

log = logging.getLogger(__name__)

_NS: Final = 1_000_000_000
STOP_WAIT_S: Final = 5.0


def configured(env: Mapping[str, str]) -> bool:
    """Whether OTEL_* ask for traces: an OTLP endpoint is set, and neither OTEL_SDK_DISABLED nor
    OTEL_TRACES_EXPORTER=none turns them off."""
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return bool(endpoint and endpoint.strip()) and not disabled and env.get("OTEL_TRACES_EXPORTER") != "none"


def start(service_name: str, *, sampled_by_env: bool = False) -> TracerProvider:
    """The process's tracer provider, exporting by OTLP/HTTP as OTEL_* say (the exporter reads its
    endpoint, headers and timeouts there), with redis-py, aiohttp's server and its client instrumented.
    Called before the API app and the Redis clients are made."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service_name}).merge(OTELResourceDetector().detect())
    # Unless OTEL_TRACES_SAMPLER says otherwise: no trace that is only a client call of no request
    # or job (a worker's idle BLMOVE, heartbeat and polls; a webhook delivery): noise, not work.
    sampler = None if sampled_by_env else _work_only()
    provider = TracerProvider(resource=resource, sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    AioHttpServerInstrumentor().instrument(tracer_provider=provider)
    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    log.info("tracing on: spans go to the OTLP endpoint of OTEL_*", extra={"service": service_name})
    return provider


async def stop(provider: TracerProvider) -> None:
    """Send what is buffered, then stop exporting (at shutdown): on a thread, for at most
    STOP_WAIT_S, so a collector that is down cannot hold the process's exit."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.to_thread(provider.shutdown), STOP_WAIT_S)


def _work_only() -> Sampler:
    """Parent-based, and a span with no parent is kept unless it is a client call."""
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, SamplingResult
    from opentelemetry.sdk.trace.sampling import Sampler as Base
    from opentelemetry.trace import SpanKind

    class WorkOnly(Base):
        def should_sample(
            self, parent_context: Any, trace_id: int, name: str, kind: Any = None, *args: Any, **kw: Any
        ) -> Any:
            if kind is SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, *args, **kw)

        def get_description(self) -> str:
            return "WorkOnly"

    return ParentBased(root=WorkOnly())


def intake_span() -> contextlib.AbstractContextManager[str]:
    """The API's `intake` span around validating and enqueueing a job: yields the traceparent the
    message carries, so the worker's span is this one's child."""
    from opentelemetry import trace
    from opentelemetry.propagate import inject

    @contextlib.contextmanager
    def span() -> Iterator[str]:
        with trace.get_tracer(__name__).start_as_current_span("intake"):
            carrier: dict[str, str] = {}
            inject(carrier)
            yield carrier.get("traceparent", "")

    return span()


class JobTracer:
    """The worker's spans of one job: `job` (its parent the message's traceparent), `queue wait`,
    the model call and `complete`."""

    def __init__(self, model: str) -> None:
        from opentelemetry import trace

        self._tracer: Tracer = trace.get_tracer(__name__)
        self._model = model

    @contextlib.contextmanager
    def job(self, message: Message, attempt: int, started: float) -> Iterator[Span]:
        from opentelemetry.context import Context
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind

        # No traceparent: a root, never the child of whatever span was current when the job started.
        parent = extract({"traceparent": message.trace}) if message.trace else Context()
        attributes = {"job.id": message.id, "job.attempt": attempt, "job.tenant": message.tenant}
        attributes |= {"messaging.system": "redis", "messaging.operation.type": "process"}
        start_ns = int(started * _NS)
        with self._tracer.start_as_current_span(
            "job", context=parent, kind=SpanKind.CONSUMER, attributes=attributes, start_time=start_ns
        ) as span:
            waited = self._tracer.start_span("queue wait", start_time=int(message.enqueued_at * _NS))
            waited.end(end_time=max(start_ns, int(message.enqueued_at * _NS)))
            yield span

    @contextlib.contextmanager
    def model_call(self, max_tokens: int | None) -> Iterator[_Call]:
        """The model call, per the GenAI semantic conventions: `generate_content <model>`."""
        from opentelemetry.trace import SpanKind

        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "generate_content",
            "gen_ai.provider.name": "gcp.gemini",
            "gen_ai.request.model": self._model,
        }
        if max_tokens:
            attributes["gen_ai.request.max_tokens"] = max_tokens
        name = f"generate_content {self._model}"
        with self._tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
            yield _Call(span)

    def complete(self) -> contextlib.AbstractContextManager[Span]:
        return self._tracer.start_as_current_span("complete")


class _Call:
    def __init__(self, span: Span) -> None:
        self._span = span

    def answered(self, summary: Summary) -> None:
        attributes: dict[str, Any] = {"gen_ai.response.model": summary.model, "summarize.cached": summary.cached}
        if summary.prompt_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = summary.prompt_tokens
        if summary.output_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = summary.output_tokens
        self._span.set_attributes(attributes)
