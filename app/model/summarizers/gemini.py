"""Summarizer backed by the Gemini API through the google-genai async client."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from google import genai
from google.genai import errors, types

from app.model.summarizers.base import Emit, SummarizerError, Summary, no_emit
from app.model.summarizers.prompt import PROMPT_VERSION, system_instruction
from app.options import NO_OPTIONS, Options

DEFAULT_MODEL = "gemini-flash-latest"
# Output tokens expected when the client set no max_words: the limiter's estimate before the call.
DEFAULT_OUTPUT_TOKENS = 400

# Finish reasons that mean the model refused or was cut off by policy; asking again gives the same.
_REFUSALS = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"})
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_MAX_SERVER_TEXT = 300  # error bodies from proxies can be whole HTML pages


@dataclass
class _Answer:
    """What the chunks of one streamed answer add up to."""

    pieces: list[str] = field(default_factory=list)
    candidates: bool = False
    finish_reason: str = ""
    usage: types.GenerateContentResponseUsageMetadata | None = None
    model_version: str | None = None


class GeminiSummarizer:
    """One summarize() is exactly one generateContent call (streamed while someone listens); the
    job queue owns retries."""

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        max_output_tokens: int = 0,
    ) -> None:
        self._api_key = api_key
        self._model = model
        self._max_output_tokens = max_output_tokens  # MAX_OUTPUT_TOKENS: every call's cap (0: none)
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._client: genai.Client | None = None
        # The service's output cap is part of what an answer is: one cut off under a lower cap is not reused.
        self.cache_id = f"gemini:{model}:{PROMPT_VERSION}" + (f":max{max_output_tokens}" if max_output_tokens else "")
        self.rate_limited_model = model

    async def start(self) -> None:
        # The SDK's client takes ~100 ms to build: not on the first job's clock, where it
        # would also bunch the first calls of a freshly started fleet past their booked slots.
        self._ensure_client()
        self._config(NO_OPTIONS)

    async def summarize(self, text: str, options: Options, emit: Emit) -> Summary:
        """One call: streamed while someone listens (`emit` is not `no_emit`), else plain, which
        costs the client less (one response to parse, not a stream of events)."""
        models, config = self._ensure_client().aio.models, self._config(options)
        answer = _Answer()
        try:
            if emit is no_emit:
                reply = await models.generate_content(model=self._model, contents=text, config=config)
                await self._take(reply, answer, emit)
            else:
                stream = await models.generate_content_stream(model=self._model, contents=text, config=config)
                async for chunk in stream:
                    await self._take(chunk, answer, emit)
        except errors.APIError as exc:
            raise self._from_api_error(exc) from exc
        except TimeoutError as exc:  # aiohttp's total timeout; also covers its ServerTimeoutError
            raise self._error(f"gemini did not answer within {self._timeout_s:g}s", transient=True) from exc
        except aiohttp.ClientError as exc:
            raise self._error(f"gemini request failed: {type(exc).__name__}: {exc}", transient=True) from exc
        except (json.JSONDecodeError, errors.UnknownApiResponseError) as exc:  # a proxy's page, not the API's JSON
            raise self._error(
                f"gemini sent a body that is not JSON: {str(exc)[:_MAX_SERVER_TEXT]}", transient=True
            ) from exc
        return self._to_summary(answer)

    @property
    def model(self) -> str:
        return self._model

    def client(self) -> genai.Client:
        """The SDK client every call of this summarizer shares (its Batch API too: app/model/batches.py)."""
        return self._ensure_client()

    def request_config(self, options: Options) -> types.GenerateContentConfig:
        """A request's config for `options`: the same for a call and for a batch's request."""
        return self._config(options)

    def summary_of(self, response: types.GenerateContentResponse) -> Summary:
        """A whole response (a batch's answer) as a Summary, checked as a call's answer is."""
        answer = _Answer()
        self._absorb(response, answer)
        return self._to_summary(answer)

    def api_error(self, exc: errors.APIError) -> SummarizerError:
        return self._from_api_error(exc)

    def error(self, message: str, **kind: Any) -> SummarizerError:
        """A SummarizerError whose text never carries the key."""
        return self._error(message, **kind)

    def estimate_tokens(self, text: str, options: Options) -> int:
        # About 4 characters per token for the prompt; the output by what was asked for.
        prompt = (len(system_instruction(options)) + len(text)) // 4 + 1
        output = options.max_words * 2 if options.max_words else DEFAULT_OUTPUT_TOKENS
        cap = self._output_cap(options)
        return prompt + (min(output, cap) if cap else output)

    def _output_cap(self, options: Options) -> int | None:
        """The call's max_output_tokens: the job's, within MAX_OUTPUT_TOKENS (None: the model's own)."""
        caps = [cap for cap in (options.max_output_tokens, self._max_output_tokens) if cap]
        return min(caps) if caps else None

    def _config(self, options: Options) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            system_instruction=system_instruction(options),
            max_output_tokens=self._output_cap(options),
            # Both loops could make extra model calls behind our back; neither is used here.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            automatic_continuation=False,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aio.aclose()
            self._client.close()  # the SDK also opens a sync httpx pool that aio.aclose() leaves open
            self._client = None
        if self._session is not None:
            await self._session.close()  # ours: the SDK never closes a session it was given
            self._session = None

    def _ensure_client(self) -> genai.Client:
        # Built on first use because an aiohttp session must be created inside the running loop.
        # We hand the SDK our own session: its default one subclasses ClientSession, which makes
        # aiohttp emit a DeprecationWarning on every new event loop.
        if self._client is None:
            # limit=0 as in the SDK's own session: concurrency is bounded by the worker count,
            # and a pool cap would make requests queue for a connection inside our timeout.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=True)
            options = types.HttpOptions(
                base_url=self._base_url,
                timeout=max(1, round(self._timeout_s * 1000)),  # milliseconds; 0 would mean none
                retry_options=types.HttpRetryOptions(attempts=1),
                aiohttp_client=self._session,
            )
            # vertexai=False so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot switch backends.
            self._client = genai.Client(api_key=self._api_key, vertexai=False, http_options=options)
        return self._client

    async def _take(self, chunk: types.GenerateContentResponse, answer: _Answer, emit: Emit) -> None:
        delta = self._absorb(chunk, answer)
        if delta and emit is not no_emit:
            await emit(delta)

    def _absorb(self, chunk: types.GenerateContentResponse, answer: _Answer) -> str:
        """Add a response (or a stream's chunk) to `answer`; returns the text it adds."""
        feedback = chunk.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            raise self._error(f"gemini blocked the prompt: {_label(feedback.block_reason)}", transient=False)
        answer.usage = chunk.usage_metadata or answer.usage
        answer.model_version = chunk.model_version or answer.model_version
        if not chunk.candidates:
            return ""
        answer.candidates = True
        candidate = chunk.candidates[0]
        if candidate.finish_reason is not None:
            answer.finish_reason = _label(candidate.finish_reason)
        parts = candidate.content.parts if candidate.content is not None else None
        delta = "".join(part.text for part in parts or () if part.text and not part.thought)
        if delta:
            answer.pieces.append(delta)
        return delta

    def _to_summary(self, answer: _Answer) -> Summary:
        reason = answer.finish_reason or "none"
        if not answer.candidates:
            raise self._error("gemini returned no candidates", transient=False)
        if reason in _REFUSALS:
            raise self._error(f"gemini stopped the answer: finish_reason {reason}", transient=False)
        text = "".join(answer.pieces).strip()
        if not text:
            raise self._error(f"gemini returned an empty answer (finish_reason {reason})", transient=False)
        usage = answer.usage
        return Summary(
            text=text,
            model=answer.model_version or self._model,
            prompt_tokens=(usage.prompt_token_count or 0) if usage else None,
            output_tokens=((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else None,
            truncated=reason == "MAX_TOKENS",  # the text so far is kept, marked as cut off
        )

    def _from_api_error(self, exc: errors.APIError) -> SummarizerError:
        # 408 is the HTTP status for "try again": transient like 429 and 5xx.
        transient = exc.code in (408, 429) or exc.code >= 500
        return self._error(
            f"gemini HTTP {exc.code} {exc.status}: {str(exc.message)[:_MAX_SERVER_TEXT]}",
            transient=transient,
            retry_after_s=_retry_after(exc) if transient else None,
            quota=exc.code == 429,
            overloaded=exc.code == 503 or exc.status == "UNAVAILABLE",
        )

    def _error(self, message: str, **kind: Any) -> SummarizerError:
        """A SummarizerError of `kind` (its keywords). Error texts come partly from the server and the
        transport: the key never gets through."""
        if self._api_key:
            message = message.replace(self._api_key, "[redacted]")
        return SummarizerError(message, **kind)


def _label(value: object) -> str:
    """An SDK enum's wire name ('SAFETY'), or the value itself if it is not an enum."""
    return str(getattr(value, "value", value))


def _retry_after(exc: errors.APIError) -> float | None:
    """The delay the API asked for: RetryInfo.retryDelay in the body, else a Retry-After header."""
    details = exc.details.get("error", {}).get("details", []) if isinstance(exc.details, dict) else []
    for detail in details:
        if isinstance(detail, dict) and detail.get("@type") == _RETRY_INFO:
            delay = _seconds(str(detail.get("retryDelay", "")).removesuffix("s"))
            if delay is not None:
                return delay
    headers = getattr(exc.response, "headers", None)
    return _seconds(headers.get("Retry-After", "")) if headers is not None else None


def _seconds(raw: str) -> float | None:
    """A non-negative number of seconds, or None. HTTP-date Retry-After values are not used by Google."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
