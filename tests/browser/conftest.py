"""The browser tests reuse the in-process service of the API tests."""

from tests.api.conftest import start_service

__all__ = ["start_service"]
