"""The fault tests reuse the in-process service of the API tests, and a fake Gemini each."""

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import start_service
from tests.fakes.gemini_server import FakeGemini

__all__ = ["gemini", "start_service"]


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini() as server:
        yield server
