"""500 jobs through the worker, interactive and then as batch jobs, through the real google-genai
SDK against the fake Gemini server: model calls (HTTP requests to the API) and cost, in one run.

The fake answers a call in 50 ms and a batch at once, so the times say what the queue adds, not
what Gemini takes (a real batch answers within 24 h). Prices are gemini-2.5-flash's list prices.

Usage: python -m bench.batch [JOBS]   (default 500; starts its own redis-server and fake server)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from app.config import load_settings
from app.connection.factory import RedisFactory
from app.model.summarizers.gemini import GeminiSummarizer
from app.queue.contract import Mode
from app.queue.message import new_message
from app.queue.store import Queue
from app.service import build_worker
from tests.fakes.gemini_server import Answer, Delay, FakeGemini
from tests.redis_server import RedisServer

MODEL = "gemini-2.5-flash"
PRICES = ((MODEL, 0.30, 2.50),)  # USD per million tokens, input / output
TEXT = "Quarterly report {i}. Revenue rose in every region; costs fell. The outlook is steady. " * 4


async def run(url: str, gemini: FakeGemini, jobs: int, mode: Mode) -> dict[str, float]:
    settings = replace(
        load_settings({"REDIS_URL": url, "QUEUE_NAME": f"bench-{mode.value}", "GEMINI_API_KEY": "bench-key"}),
        gemini_prices=PRICES, worker_concurrency=100, batch_max_jobs=jobs, batch_max_wait_s=1.0,
        batch_poll_min_s=0.1, batch_poll_max_s=0.5, result_cache_ttl_s=0,
    )  # fmt: skip
    redis = RedisFactory(settings).client()  # as the service builds it: a bounded, blocking pool
    queue = Queue.from_settings(redis, settings)
    summarizer = GeminiSummarizer("bench-key", MODEL, gemini.base_url, 60)
    worker = build_worker(settings, queue, summarizer)
    calls_before, batches_before = len(gemini.calls), len(gemini.batches.created)
    ids = []
    started = time.perf_counter()
    for i in range(jobs):
        message = new_message(TEXT.format(i=i), mode=mode)
        await queue.producer.enqueue(message)
        ids.append(message.id)
    task = asyncio.create_task(worker.run())
    records = await _all_done(queue, ids)
    elapsed = time.perf_counter() - started
    worker.stop()
    await task
    await summarizer.aclose()
    await redis.aclose()
    return {
        "model calls": len(gemini.calls) - calls_before + len(gemini.batches.created) - batches_before,
        "requests answered": sum(1 for r in records if r["status"] == "done"),
        "cost USD": sum(float(r.get("cost_usd") or 0) for r in records),  # type: ignore[arg-type]
        "seconds to all done": elapsed,
    }


async def _all_done(queue: Queue, ids: list[str]) -> list[dict[str, object]]:
    while True:
        records = [await queue.reads.get_job(job_id) for job_id in ids]
        if all(r is not None and r["status"] in ("done", "failed") for r in records):
            return [r for r in records if r is not None]
        await asyncio.sleep(0.2)


async def main(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            async with FakeGemini(default=Delay(0.05, Answer("Revenue rose; costs fell; a steady outlook."))) as gemini:
                rows = {
                    mode.value: await run(server.url, gemini, jobs, mode) for mode in (Mode.INTERACTIVE, Mode.BATCH)
                }
        finally:
            server.stop()
    print(f"{jobs} jobs, the real SDK against the fake Gemini server (a call: 50 ms; a batch: answered at once)")
    print(f"{'':22}{'interactive':>14}{'batch':>14}")
    for name in rows["interactive"]:
        fmt = "{:>14.6f}" if name == "cost USD" else "{:>14.2f}" if name.startswith("seconds") else "{:>14.0f}"
        print(f"{name:22}" + "".join(fmt.format(rows[mode][name]) for mode in ("interactive", "batch")))
    share = rows["batch"]["cost USD"] / rows["interactive"]["cost USD"] if rows["interactive"]["cost USD"] else 0
    print(f"batch cost / interactive cost: {share:.2f}")


if __name__ == "__main__":
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
