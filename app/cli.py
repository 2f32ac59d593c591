"""Operator commands: `python -m app dead list|requeue|purge` against the queue in REDIS_URL."""

from __future__ import annotations

import argparse
import dataclasses
import sys

import orjson

from app.broker import UNAVAILABLE, Broker
from app.config import Settings
from app.protocol import Keys
from app.queue import JobQueue


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive integer")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Operate the summarize queue.")
    commands = parser.add_subparsers(dest="command", required=True)
    dead = commands.add_parser("dead", help="messages that failed for good")
    actions = dead.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="show dead messages, newest first")
    listing.add_argument("--limit", type=_positive, default=50, help="most entries to show (default 50)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    for name, verb in (("requeue", "run again as fresh jobs (attempts reset)"), ("purge", "delete")):
        action = actions.add_parser(name, help=f"{verb}: one job by id, or --all")
        target = action.add_mutually_exclusive_group(required=True)
        target.add_argument("job_id", nargs="?", help="the job id of the dead entry")
        target.add_argument("--all", action="store_true", help="every dead entry")
    return parser


async def run_cli(settings: Settings, argv: list[str]) -> int:
    """Run one command; returns the exit code (0 ok, 1 nothing matched, 3 Redis unreachable)."""
    args = _parser().parse_args(argv)
    if settings.redis_url is None:  # the embedded broker lives inside a service process
        settings = dataclasses.replace(settings, redis_url="redis://localhost:6379/0")
    redis = Broker(settings).client()
    queue = JobQueue(redis, Keys(settings.queue_name, settings.result_channel), result_ttl_s=settings.result_ttl_s)
    try:
        return await _dead(queue, args)
    except UNAVAILABLE as exc:
        print(f"error: Redis at {settings.redis_url} is not reachable ({exc}); set REDIS_URL", file=sys.stderr)
        return 3
    finally:
        await redis.aclose()


async def _dead(queue: JobQueue, args: argparse.Namespace) -> int:
    if args.action == "list":
        entries = await queue.list_dead(args.limit)
        for entry in entries:
            entry.pop("raw")
            line = orjson.dumps(entry).decode() if args.json else f"{entry['id']}\t{entry['reason']}"
            print(line)
        if not args.json:
            print(f"{len(entries)} dead message(s) shown", file=sys.stderr)
        return 0
    job_id = None if args.all else args.job_id
    if args.action == "requeue":
        count, problems = await queue.requeue_dead(job_id)
        for problem in problems:
            print(f"skipped: {problem}", file=sys.stderr)
        print(f"requeued {count}")
    else:
        count = await queue.purge_dead(job_id)
        print(f"purged {count}")
    return 0 if count or job_id is None else 1
