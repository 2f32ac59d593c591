"""Peers: arq, SAQ and dramatiq measured on this machine, each through its own public API and documented settings.

Peers (PEERS):
- "arq": arq's worker defaults (max_jobs 10, poll_delay 0.5 s; the `concurrency` argument is not used),
  and `Job.result()` with its default poll_delay 0.5 s in W3.
- "arq-tuned": poll_delay 0.01 s (worker and `Job.result`) and max_jobs = concurrency.
- "saq": SAQ's defaults, worker concurrency = concurrency, but for the sweep: once in the `startup` hook, before
  any slot dequeues, then every hour, none mid-run (SAQ 0.26.4's sweep takes a job dequeued but not yet ACTIVE;
  bench/peers/saq_worker.py says why).
- "dramatiq": RedisBroker plus the Results middleware (Redis backend), `--processes 1 --threads concurrency`.

Each worker is one process of the peer's own CLI (`python -m arq|saq|dramatiq ...`, dramatiq's supervisor
process aside), started by the bench after the jobs are enqueued, and killed with its process group on every
path. All peers log at WARNING (arq's CLI otherwise logs every job at INFO).

How the measurements work (the same for every peer):
- Every call FLUSHDBs first: pass the URL of a redis-server the caller owns, with persistence off.
- W1/W2 (`w1_drain`, `w2_io`): one no-op warm-up job, then `jobs` jobs, are enqueued with the peer's enqueue
  API (concurrent calls where the API is async: none of the three has a batch enqueue); then the worker starts.
  The bench reads the peer's own count of unfinished jobs every 5 ms: arq's queue sorted set (a job leaves it
  when finished), SAQ's `Queue.count("incomplete")`, dramatiq's message hashes (a message leaves them when
  acked, as RedisBroker.join counts). Worker start-up is excluded: the clock starts at the first poll that
  sees a job finished (normally the warm-up job), and the rate is the jobs still unfinished then divided by
  the time until none are. The jobs themselves do nothing but return (or sleep): no counter. Afterwards a
  sample of 20 jobs is checked for success (arq result, SAQ status) or dramatiq's dead-letter queue for none.
- W3 (`w3_latency`): a worker with 10 slots (dramatiq: 10 threads) is started and warmed up by one job; then
  `jobs` single no-op jobs one after another, each timed from enqueue until the client sees it complete the
  peer's usual way: arq `await job.result()`, SAQ `await job.refresh(until_complete=...)` (SAQ's pub/sub
  listen), dramatiq `message.get_result(block=True)` (the Results middleware, a blocking pop on Redis).
Every step has a timeout; a dead worker, a failed job or a timeout raises PeerError with the worker's output.
"""

from __future__ import annotations

from bench.peers._harness import Peer, drain, latency
from bench.peers._process import PeerError

__all__ = ["PEERS", "PeerError", "w1_drain", "w2_io", "w3_latency"]

PEERS = ["arq", "arq-tuned", "saq", "dramatiq"]

DRAIN_TIMEOUT_S = 300.0


def make_peer(peer: str, redis_url: str, gemini_url: str | None = None) -> Peer:
    """The adapter for a name in PEERS (imported on demand: a worker process needs only its own peer)."""
    if peer in ("arq", "arq-tuned"):
        from bench.peers.arq_peer import ArqPeer

        return ArqPeer(redis_url, tuned=peer == "arq-tuned")
    if peer == "saq":
        from bench.peers.saq_peer import SaqPeer

        return SaqPeer(redis_url)
    if peer in ("ours", "ours+sdk", "ours+sdk+listener"):
        from bench.peers.ours_peer import OursPeer

        return OursPeer(redis_url, gemini_url if peer != "ours" else None, listened=peer == "ours+sdk+listener")
    if peer == "dramatiq":
        from bench.peers.dramatiq_peer import DramatiqPeer

        return DramatiqPeer(redis_url)
    raise ValueError(f"unknown peer {peer!r}; expected one of {PEERS}")


async def w1_drain(
    peer: str, redis_url: str, jobs: int, concurrency: int, *, timeout_s: float = DRAIN_TIMEOUT_S
) -> float:
    """Jobs/s of one worker draining `jobs` no-op jobs enqueued before it started."""
    return await drain(make_peer(peer, redis_url), jobs, concurrency, None, timeout_s)


async def w2_io(
    peer: str,
    redis_url: str,
    jobs: int,
    concurrency: int,
    delay_s: float,
    *,
    timeout_s: float = DRAIN_TIMEOUT_S,
    gemini_url: str | None = None,
) -> float:
    """Jobs/s of one worker draining `jobs` jobs that each sleep delay_s (asyncio.sleep; dramatiq: time.sleep;
    ours+sdk: a model call through google-genai to the fake Gemini server at gemini_url, which waits delay_s)."""
    return await drain(make_peer(peer, redis_url, gemini_url), jobs, concurrency, delay_s, timeout_s)


async def w3_latency(peer: str, redis_url: str, jobs: int) -> tuple[float, float]:
    """(p50, p99) in ms of `jobs` sequential jobs, enqueue to completion seen by the client, on an idle worker."""
    return await latency(make_peer(peer, redis_url), jobs)
