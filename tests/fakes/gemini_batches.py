"""The Gemini Batch API as the google-genai SDK calls it (Gemini Developer API): create a batch of
inline generateContent requests, get it (its state, then its inline responses), cancel it. Part of
the fake Gemini server (gemini_server.py); each batch follows a scripted plan.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """How one batch goes: pending for `after_s` after its creation, then `state`; the requests at
    `failing` indexes get an error instead of a response."""

    state: str = "BATCH_STATE_SUCCEEDED"
    after_s: float = 0.0
    failing: frozenset[int] = frozenset()


@dataclass
class FakeBatch:
    name: str
    model: str
    display_name: str
    requests: list[JsonDict]
    plan: BatchPlan
    created: float = field(default_factory=time.monotonic)
    cancelled: bool = False
    gets: int = 0

    def state(self) -> str:
        if self.cancelled:
            return "BATCH_STATE_CANCELLED"
        return self.plan.state if time.monotonic() - self.created >= self.plan.after_s else "BATCH_STATE_PENDING"


class FakeBatches:
    """The batches one fake server holds; `answer(model, request)` is the body a request would get."""

    def __init__(self, answer: Any) -> None:
        self._answer = answer
        self.created: dict[str, FakeBatch] = {}
        self._plans: deque[BatchPlan] = deque()
        self._ids = itertools.count(1)

    def plan(self, *plans: BatchPlan) -> None:
        """Plans for the next batches created, in order; after them, each succeeds at once."""
        self._plans.extend(plans)

    def finish(self, name: str) -> None:
        """End a batch's pending time now (a test need not wait it out)."""
        self.created[name].created -= self.created[name].plan.after_s

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{api_version}/models/{model}:batchGenerateContent", self._create)
        app.router.add_get("/{api_version}/batches", self._list)
        app.router.add_get("/{api_version}/batches/{batch_id}", self._get)
        app.router.add_post("/{api_version}/batches/{batch_id}:cancel", self._cancel)

    async def _create(self, request: web.Request) -> web.Response:
        body = (await request.json()).get("batch", {})
        requests = body.get("inputConfig", {}).get("requests", {}).get("requests", [])
        name = f"batches/fake-{next(self._ids)}"
        plan = self._plans.popleft() if self._plans else BatchPlan()
        batch = FakeBatch(name, request.match_info["model"], body.get("displayName", ""), requests, plan)
        self.created[name] = batch
        return web.json_response(self._view(batch))

    async def _get(self, request: web.Request) -> web.Response:
        batch = self.created.get(f"batches/{request.match_info['batch_id']}")
        if batch is None:
            return _not_found(request.match_info["batch_id"])
        batch.gets += 1
        return web.json_response(self._view(batch))

    async def _list(self, request: web.Request) -> web.Response:
        """Newest first, one page (the SDK's pager stops without a nextPageToken)."""
        size = int(request.query.get("pageSize", "50"))
        newest = list(reversed(self.created.values()))[:size]
        return web.json_response({"operations": [self._view(batch) for batch in newest]})

    async def _cancel(self, request: web.Request) -> web.Response:
        batch = self.created.get(f"batches/{request.match_info['batch_id']}")
        if batch is None:
            return _not_found(request.match_info["batch_id"])
        batch.cancelled = batch.state() == "BATCH_STATE_PENDING"  # an ended batch stays as it ended
        return web.json_response({})

    def _view(self, batch: FakeBatch) -> JsonDict:
        state = batch.state()
        metadata: JsonDict = {"displayName": batch.display_name, "state": state, "model": f"models/{batch.model}"}
        if state == "BATCH_STATE_SUCCEEDED":
            responses = [self._response(batch, index, each) for index, each in enumerate(batch.requests)]
            metadata["output"] = {"inlinedResponses": {"inlinedResponses": responses}}
        return {"name": batch.name, "metadata": metadata}

    def _response(self, batch: FakeBatch, index: int, each: JsonDict) -> JsonDict:
        answered: JsonDict = {"metadata": each.get("metadata", {})}
        if index in batch.plan.failing:
            # a google.rpc.Status, as the Batch API reports a request's error: 3 is INVALID_ARGUMENT
            answered["error"] = {"code": 3, "message": f"request {index} is invalid"}
        else:
            answered["response"] = self._answer(batch.model, each.get("request", {}))
        return answered


def _not_found(batch_id: str) -> web.Response:
    error = {"code": 404, "message": f"batch {batch_id} not found", "status": "NOT_FOUND"}
    return web.json_response({"error": error}, status=404)
