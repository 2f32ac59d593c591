"""An asyncio job queue on Redis that summarizes texts with Gemini or offline."""

__version__ = "0.1.0"
