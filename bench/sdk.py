"""The SDK alone: google-genai calls to the fake Gemini server, `at_once` at a time, no queue around
them, in a process of their own as a worker's calls are: the ceiling of the worker's SDK path,
plain (generate_content) and streamed.

Usage: python -m bench.sdk [CALLS [AT_ONCE [DELAY_S]]]   (default 2000 100 0.05; starts its own fake server)
       python -m bench.sdk --against URL CALLS AT_ONCE plain|streamed   (prints calls/s: what `sdk_alone` runs)
"""

from __future__ import annotations

import asyncio
import sys
import time

import uvloop

from app.model.summarizers.base import no_emit
from app.model.summarizers.gemini import GeminiSummarizer
from app.options import NO_OPTIONS
from bench.peers._process import OURS_PYTHON
from tests.fakes.gemini_server import Answer, Delay, FakeGemini


async def _taken(delta: str) -> None:
    """An Emit that takes the pieces (so the call streams), and drops them."""


async def calls_per_s(gemini_url: str, calls: int, at_once: int, *, streamed: bool) -> float:
    """Calls per second through the SDK in this process, `at_once` in flight."""
    summarizer = GeminiSummarizer("bench-key", "gemini-bench", gemini_url, 60)
    await summarizer.start()
    slots = asyncio.Semaphore(at_once)
    emit = _taken if streamed else no_emit

    async def one() -> None:
        async with slots:
            await summarizer.summarize("A short text to summarize. It has two sentences.", NO_OPTIONS, emit)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    elapsed = time.perf_counter() - started
    await summarizer.aclose()
    return calls / elapsed


async def sdk_alone(gemini_url: str, calls: int, at_once: int, *, streamed: bool) -> float:
    """`calls_per_s` in a child process (the fake server stays in this one, as for the worker)."""
    child = await asyncio.create_subprocess_exec(
        OURS_PYTHON, "-m", "bench.sdk", "--against", gemini_url, str(calls), str(at_once),
        "streamed" if streamed else "plain", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"bench.sdk exited {child.returncode}")
    return float(out.decode().split()[-1])


async def main(calls: int, at_once: int, delay_s: float) -> None:
    async with FakeGemini(default=Delay(delay_s, Answer("A summary."))) as gemini:
        for streamed in (False, True):
            rate = await sdk_alone(gemini.base_url, calls, at_once, streamed=streamed)
            print(f"SDK alone, {'streamed' if streamed else 'plain'}: {rate:,.0f} calls/s ({at_once} at once)")


if __name__ == "__main__":
    given = sys.argv[1:]
    if given[:1] == ["--against"]:
        url, calls, at_once, form = given[1:5]
        # On uvloop, as the worker runs: the ceiling of the same process, without the queue.
        print(uvloop.run(calls_per_s(url, int(calls), int(at_once), streamed=form == "streamed")))
    else:
        calls, at_once, delay_s = (given + ["2000", "100", "0.05"][len(given) :])[:3]
        asyncio.run(main(int(calls), int(at_once), float(delay_s)))
