"""Summarizer backends and the choice of one from the settings."""

from __future__ import annotations

from app.config import Settings
from app.model.summarizers.base import Summarizer, SummarizerError, Summary

__all__ = ["Summarizer", "SummarizerError", "Summary", "build_fallbacks", "build_summarizer"]


def build_summarizer(settings: Settings) -> Summarizer:
    """The backend SUMMARIZER names; imports only what that backend needs."""
    if settings.summarizer == "gemini":
        from app.model.summarizers.gemini import GeminiSummarizer

        assert settings.gemini_api_key is not None  # load_settings guarantees it
        return GeminiSummarizer(
            api_key=settings.gemini_api_key,
            model=settings.gemini_model,
            base_url=settings.gemini_base_url,
            timeout_s=settings.job_timeout_s,
            max_output_tokens=settings.max_output_tokens,
        )
    if settings.summarizer == "noop":
        from app.model.summarizers.testing import NoopSummarizer

        return NoopSummarizer()
    if settings.summarizer == "sleep":
        from app.model.summarizers.testing import SleepSummarizer

        return SleepSummarizer(settings.sleep_summarizer_s)
    from app.model.summarizers.extractive import ExtractiveSummarizer

    return ExtractiveSummarizer()


def build_fallbacks(settings: Settings) -> list[Summarizer]:
    """The Gemini summarizers of GEMINI_MODEL's further models, in order (none for other backends)."""
    if settings.summarizer != "gemini" or not settings.gemini_fallbacks:
        return []
    from app.model.summarizers.gemini import GeminiSummarizer

    assert settings.gemini_api_key is not None
    return [
        GeminiSummarizer(
            settings.gemini_api_key, model, settings.gemini_base_url, settings.job_timeout_s, settings.max_output_tokens
        )
        for model in settings.gemini_fallbacks
    ]
