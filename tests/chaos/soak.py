"""The chaos soak: `python -m tests.chaos.soak [--seconds N] [--seed S] [--settle N] [--workdir DIR]`.

Real processes with every default on (2 API, 3 workers, result cache and quota on, the real
google-genai SDK against the fake Gemini with random latency, 429s and 500s). A seeded
schedule kills -9 and SIGTERMs workers, restarts Redis (AOF, appendfsync always), publishes
garbage on the result channels and pushes garbage, foreign jobs and duplicate ids onto the
queue, while clients submit, wait, poll and stream. Then the fleet is left to settle and the
checks of `tests/chaos/checks.py` run. The seed is printed first: the same seed replays the
same schedule (process timing still varies). Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from app.queue.contract import Keys
from tests.chaos.checks import Check, fleet_checks, job_checks, kill_checks, log_notes, settle, table
from tests.chaos.clients import Clients, Ledger, listen_for_results
from tests.chaos.faults import Chaos
from tests.chaos.fleet import Fleet
from tests.chaos.schedule import plan
from tests.fakes.gemini_server import Answer, FakeGemini, RateLimited, ServerError, Weighted

KEYS = Keys("job_queue", "job_result")  # the defaults: the soak has its own redis-server
FINISH_S = 15.0  # faults still in progress at the end (a SIGTERM's 5 s grace, a restart)
CALM = Answer(chunks=3, chunk_delay_s=0.02)  # the model while the fleet settles


def flaky_model(seed: int) -> Weighted:
    """Mostly a streamed answer after 50-800 ms; 3 % each of 429 (retry in 1 s), 500 and 503."""
    answer = Answer(chunks=3, chunk_delay_s=0.05)
    choices = ((answer, 91.0), (RateLimited(retry_delay="1s"), 3.0), (ServerError(500), 3.0), (ServerError(503), 3.0))
    return Weighted(choices, seed=seed, latency_s=(0.05, 0.8))


@dataclass(frozen=True, slots=True)
class SoakConfig:
    seconds: float
    seed: int
    workdir: Path
    settle_s: float = 60.0


@dataclass(frozen=True, slots=True)
class SoakResult:
    checks: list[Check]
    report: str

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


async def run_soak(config: SoakConfig) -> SoakResult:
    """Run the whole soak; every process it started is killed before it returns or raises."""
    print(f"chaos soak seed={config.seed} seconds={config.seconds:g} workdir={config.workdir}", flush=True)
    print(f"replay: python -m tests.chaos.soak --seed {config.seed} --seconds {config.seconds:g}", flush=True)
    config.workdir.mkdir(parents=True, exist_ok=True)
    model = flaky_model(config.seed)
    async with FakeGemini(default=model) as gemini:
        fleet = Fleet(config.workdir, gemini.base_url)
        try:
            await fleet.start()
            return await _soak(config, fleet, gemini, model.picked)
        finally:
            fleet.close()


async def _soak(config: SoakConfig, fleet: Fleet, gemini: FakeGemini, draws: Counter[str]) -> SoakResult:
    ledger = Ledger()
    redis = aioredis.Redis.from_url(fleet.redis_url, socket_timeout=5, socket_connect_timeout=2)
    stop_listening = asyncio.Event()
    listener = asyncio.create_task(listen_for_results(fleet.redis_url, KEYS.channel, ledger, stop_listening))
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=40)
    try:
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
            clients = Clients(ledger, [proc.port for proc in fleet.apis], config.seed)
            client_task = asyncio.create_task(clients.run(http))
            chaos = Chaos(fleet, redis, KEYS, ledger, config.seed)
            try:
                await _chaos_phase(config, chaos, clients)
                await chaos.finish(FINISH_S)
                gemini.default = CALM
                snapshot, settled_s = await settle(redis, KEYS, ledger, config.settle_s)
            finally:
                clients.stop.set()
                clients.submitting.clear()
                await client_task
                await chaos.stop_watching()
            checks = job_checks(snapshot, ledger) + kill_checks(chaos) + await fleet_checks(fleet, http)
    finally:
        stop_listening.set()
        await listener
        await redis.aclose()
    report = _report(checks, table(chaos, ledger, snapshot, settled_s, draws), chaos, fleet, config)
    return SoakResult(checks, report)


async def _chaos_phase(config: SoakConfig, chaos: Chaos, clients: Clients) -> None:
    """The schedule and the clients, for `seconds`; then clients stop submitting."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + config.seconds
    faults = plan(config.seed, config.seconds)
    await chaos.run(faults)
    await asyncio.sleep(max(0.0, ends - loop.time()))
    clients.submitting.clear()


def _report(checks: list[Check], numbers: str, chaos: Chaos, fleet: Fleet, config: SoakConfig) -> str:
    lines = ["", numbers, "", "kills:"]
    for kill in chaos.kills:
        rerun = "never" if kill.worst_rerun_s is None else f"{kill.worst_rerun_s:.1f} s"
        ended = "not all" if kill.worst_final_s is None else f"{kill.worst_final_s:.1f} s"
        not_ended = sorted(set(kill.held) - set(kill.final_s))
        lines.append(f"  {kill.how:<7} {kill.worker_id}: {len(kill.held)} held, ran again {rerun}, ended {ended}")
        lines += [f"          not ended: {job_id}" for job_id in not_ended[:5]]
    lines += ["", "checks:"]
    lines += [f"  {'PASS' if c.ok else 'FAIL'}  {c.name}" + ("" if c.ok else f": {c.detail}") for c in checks]
    notes = log_notes(fleet)
    if notes:
        lines += ["", "logs:"] + [f"  {note}" for note in notes]
    verdict = "PASSED" if all(c.ok for c in checks) else "FAILED"
    lines += ["", f"chaos soak {verdict} seed={config.seed} seconds={config.seconds:g} logs in {config.workdir}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240.0, help="length of the chaos (default 240)")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: a random seed, printed)")
    parser.add_argument("--settle", type=float, default=60.0, help="most seconds to wait for the fleet to settle")
    parser.add_argument("--workdir", type=Path, default=None, help="logs and Redis data (default: a new temp dir)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"chaos-{seed}-"))
    result = asyncio.run(run_soak(SoakConfig(args.seconds, seed, workdir, args.settle)))
    print(result.report, flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
