"""A fake Gemini API server on aiohttp that the real google-genai SDK can talk to."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.gemini_batches import FakeBatches

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Answer:
    """A 200 answer. `text=None` means the default summary; "" means a candidate with no parts.
    Streamed, the text comes in `chunks` pieces (split between words), `chunk_delay_s` apart."""

    text: str | None = None
    finish_reason: str = "STOP"
    model_version: str | None = "gemini-fake-001"  # None leaves the field out
    chunks: int = 3
    chunk_delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Blocked:
    """A 200 answer with no candidates: the prompt itself was blocked (None: no reason given)."""

    reason: str | None = "SAFETY"


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait `seconds`, then behave as `then`."""

    seconds: float
    then: Behaviour = Answer()


@dataclass(frozen=True, slots=True)
class RateLimited:
    """HTTP 429 with a google.rpc.RetryInfo detail, like the real API's quota errors."""

    retry_delay: str | None = "2s"
    retry_after_header: str | None = None  # the real API does not send one; here to test fallbacks


@dataclass(frozen=True, slots=True)
class ServerError:
    """HTTP 5xx."""

    code: int = 500


@dataclass(frozen=True, slots=True)
class BadRequest:
    """HTTP 400."""

    message: str = "Request contains an invalid argument."


@dataclass(frozen=True, slots=True)
class Garbage:
    """A body that is not JSON, as a misbehaving proxy in front of the API might send."""

    code: int = 502


@dataclass(frozen=True, slots=True)
class Hang:
    """Never answer; the request stays open until the client gives up or the server stops."""


@dataclass(frozen=True, slots=True, eq=False)
class Weighted:
    """Each call draws one of `choices` (behaviour, weight) and a latency from `latency_s`
    (low, high: uniform), from a random.Random seeded with `seed`: a model that is slow and
    sometimes refuses, the same sequence of draws on every run with the same seed (calls
    draw in the order they arrive). `picked` counts the draws by behaviour type."""

    choices: tuple[tuple[Behaviour, float], ...]
    seed: int = 0
    latency_s: tuple[float, float] = (0.0, 0.0)
    picked: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rng", random.Random(self.seed))

    def draw(self) -> tuple[float, Behaviour]:
        """The next (latency in seconds, behaviour)."""
        behaviours = [behaviour for behaviour, _ in self.choices]
        weights = [weight for _, weight in self.choices]
        behaviour = self._rng.choices(behaviours, weights)[0]
        self.picked[_label_of(behaviour)] += 1
        return self._rng.uniform(*self.latency_s), behaviour


def _label_of(behaviour: Behaviour) -> str:
    match behaviour:
        case ServerError(code):
            return f"ServerError({code})"
        case _:
            return type(behaviour).__name__


Behaviour = Answer | Blocked | Delay | RateLimited | ServerError | BadRequest | Garbage | Hang | Weighted

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass(frozen=True, slots=True)
class Call:
    """One generateContent request as the server saw it."""

    model: str
    body: JsonDict
    api_key: str | None
    at: float  # time.monotonic() on arrival
    stream: bool = False

    @property
    def prompt(self) -> str:
        """The text of the last user turn."""
        parts = (self.body.get("contents") or [{}])[-1].get("parts", [])
        return "".join(part.get("text", "") for part in parts)

    @property
    def system_instruction(self) -> str:
        parts = self.body.get("systemInstruction", {}).get("parts", [])
        return "".join(part.get("text", "") for part in parts)

    @property
    def prompt_tokens(self) -> int:
        """What the fake counts (and reports in usageMetadata) for this call's prompt: 4 characters a token."""
        return max(1, len(self.prompt + self.system_instruction) // 4)


class FakeGemini:
    """Serves POST /{api_version}/models/{model}:generateContent and :streamGenerateContent
    (Server-Sent Events, as the SDK asks with alt=sse) on 127.0.0.1, on a free port.

    Scripted behaviours are used one per call, in order; after that every call gets `default`.
    """

    def __init__(self, default: Behaviour = Answer()) -> None:
        self.default: Behaviour = default
        self.calls: list[Call] = []
        self.aborted: list[tuple[Call, float]] = []  # calls whose client went away first, and when (monotonic)
        self._script: deque[Behaviour] = deque()
        self._by_model: dict[str, deque[Behaviour]] = {}
        self.batches = FakeBatches(self._batch_answer)  # the Batch API (gemini_batches.py)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._port = 0

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next calls."""
        self._script.extend(behaviours)

    def script_model(self, model: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next calls of one model (before the shared script)."""
        self._by_model.setdefault(model, deque()).extend(behaviours)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{api_version}/models/{model}:generateContent", self._generate_content)
        app.router.add_post("/{api_version}/models/{model}:streamGenerateContent", self._generate_content)
        self.batches.routes(app)
        # Cancel a handler when its client disconnects, so Delay/Hang do not outlive the request.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._stopping.set()  # releases any Hang still waiting
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGemini:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _batch_answer(self, model: str, body: JsonDict) -> JsonDict:
        """What one request of a batch gets: the default answer's body (an Answer, or the Answer a
        Delay ends with), as a call would."""
        call = Call(model=model, body=body, api_key=None, at=time.monotonic())
        default = self.default.then if isinstance(self.default, Delay) else self.default
        answer = default if isinstance(default, Answer) else Answer()
        return _answer_body(answer, call)

    async def _generate_content(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        call = Call(
            model=request.match_info["model"],
            body=await request.json(),
            api_key=request.headers.get("x-goog-api-key"),
            at=arrived,
            stream=request.path.endswith(":streamGenerateContent"),
        )
        self.calls.append(call)
        own = self._by_model.get(call.model)
        behaviour = own.popleft() if own else self._script.popleft() if self._script else self.default
        try:
            return await self._respond(behaviour, call, request)
        except asyncio.CancelledError:  # handler_cancellation: the client disconnected mid-answer
            self.aborted.append((call, time.monotonic()))
            raise

    async def _respond(self, behaviour: Behaviour, call: Call, request: web.Request) -> web.StreamResponse:
        match behaviour:
            case Delay(seconds, then):
                await asyncio.sleep(seconds)
                return await self._respond(then, call, request)
            case Weighted():
                latency_s, picked = behaviour.draw()
                return await self._respond(Delay(latency_s, picked), call, request)
            case Hang():
                await self._stopping.wait()
                return _error(503, "The server is shutting down.")
            case Answer() | Blocked():
                return await _ok(behaviour, call, request)
            case RateLimited():
                return _rate_limited(behaviour)
            case ServerError(code):
                return _error(code, "An internal error has occurred. Please retry or report the problem.")
            case BadRequest(message):
                return _error(400, message)
            case Garbage(code):
                return web.Response(status=code, text="<html>oops</html>", content_type="application/json")
        raise AssertionError(f"unknown behaviour {behaviour!r}")


def default_summary(prompt: str) -> str:
    """What the fake answers when no text was scripted."""
    return "SUMMARY: " + prompt[:60]


def answer_tokens(answer: str) -> int:
    """What the fake counts (and reports) for an answer's text: 4 characters a token."""
    return len(answer) // 4


def _usage(call: Call, answer: str) -> JsonDict:
    prompt_tokens = call.prompt_tokens
    answer_tokens = len(answer) // 4
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": answer_tokens,
        "totalTokenCount": prompt_tokens + answer_tokens,
    }


def _answer_body(answer: Answer, call: Call) -> JsonDict:
    text = default_summary(call.prompt) if answer.text is None else answer.text
    content: JsonDict = {"role": "model"}
    if text:
        content["parts"] = [{"text": text}]
    body: JsonDict = {
        "candidates": [{"content": content, "finishReason": answer.finish_reason, "index": 0}],
        "usageMetadata": _usage(call, text),
        "responseId": f"fake-{id(call):x}",
    }
    if answer.model_version is not None:
        body["modelVersion"] = answer.model_version
    return body


async def _ok(behaviour: Answer | Blocked, call: Call, request: web.Request) -> web.StreamResponse:
    if isinstance(behaviour, Blocked):
        body = _blocked_body(behaviour.reason, call)
        return await _send_events(request, [body], 0.0) if call.stream else web.json_response(body)
    return await _stream(request, behaviour, call) if call.stream else web.json_response(_answer_body(behaviour, call))


def _pieces(text: str, count: int) -> list[str]:
    """`text` in `count` consecutive pieces (fewer for a short text), split after spaces."""
    words = text.split(" ")
    size = max(1, -(-len(words) // max(1, count)))
    groups = [words[i : i + size] for i in range(0, len(words), size)]
    return [" ".join(group) + (" " if n < len(groups) - 1 else "") for n, group in enumerate(groups)] or [""]


async def _stream(request: web.Request, answer: Answer, call: Call) -> web.StreamResponse:
    """The answer as the real API streams it: a chunk per piece, the finish reason and usage on the last."""
    full = _answer_body(answer, call)
    text = default_summary(call.prompt) if answer.text is None else answer.text
    chunks = []
    for piece in _pieces(text, answer.chunks):
        content = {"role": "model", "parts": [{"text": piece}]} if piece else {"role": "model"}
        chunks.append({"candidates": [{"content": content, "index": 0}], "modelVersion": full.get("modelVersion")})
    chunks[-1]["candidates"][0]["finishReason"] = answer.finish_reason
    chunks[-1]["usageMetadata"] = full["usageMetadata"]
    return await _send_events(request, chunks, answer.chunk_delay_s)


async def _send_events(request: web.Request, chunks: list[JsonDict], delay_s: float) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for n, chunk in enumerate(chunks):
        if n and delay_s:
            await asyncio.sleep(delay_s)
        await response.write(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
    await response.write_eof()
    return response


def _blocked_body(reason: str | None, call: Call) -> JsonDict:
    body: JsonDict = {"usageMetadata": _usage(call, ""), "modelVersion": "gemini-fake-001"}
    if reason is not None:
        body["promptFeedback"] = {"blockReason": reason}
    return body


def _rate_limited(behaviour: RateLimited) -> web.Response:
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests"}],
        }
    ]
    if behaviour.retry_delay is not None:
        details.append({"@type": _RETRY_INFO, "retryDelay": behaviour.retry_delay})
    headers = {"Retry-After": behaviour.retry_after_header} if behaviour.retry_after_header else None
    return _error(429, "You exceeded your current quota.", details, headers)


def _error(
    code: int, message: str, details: list[JsonDict] | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    error: JsonDict = {"code": code, "message": message, "status": _STATUS_NAMES.get(code, "UNKNOWN")}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=code, headers=headers)
