"""Operator commands against the queue in REDIS_URL: `python -m app submit|status|stats|workers|dead`
(also installed as the `summarize-queue` console script)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import AsyncIterator

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError

from app.config import Settings
from app.connection.errors import UNAVAILABLE
from app.connection.factory import RedisFactory
from app.options import InvalidOption, parse_options
from app.queue.contract import PRIORITIES, Mode, Priority, is_final
from app.queue.follow import until_final
from app.queue.hub import ResultHub
from app.queue.message import new_message
from app.queue.replies import Cancelled
from app.queue.store import Queue
from app.redact import Redactor, mask_url, url_password


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive integer")
    return value


SUBSCRIBE_WITHIN_S = 5.0

EXIT_CODES = """exit codes: 0 done / ok, 1 the job failed, expired or was cancelled (cancel: it had already
ended), or nothing matched, 2 bad usage, 3 Redis unreachable, 4 no such job, 5 --wait ran out before the job ended"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="Operate the summarize queue (REDIS_URL, QUEUE_NAME as for the service).",
        epilog=EXIT_CODES,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="enqueue a text (as the API would)", epilog=EXIT_CODES)
    submit.add_argument("text", help="the text to summarize, or - to read it from standard input")
    submit.add_argument("--max-words", type=int, help="at most this many words (10-1000)")
    submit.add_argument("--format", choices=["paragraph", "bullets"])
    submit.add_argument("--language", help="a BCP 47 tag for the summary's language, e.g. de or pt-BR")
    submit.add_argument("--priority", choices=[p.value for p in PRIORITIES], default="normal")
    submit.add_argument(
        "--batch", action="store_true", help="answer it in a Gemini batch job: half the price, within 24 h"
    )
    submit.add_argument("--wait", type=float, default=0, metavar="S", help="wait up to S seconds for the result")
    submit.add_argument("--json", action="store_true", help="print the job as JSON")
    status = commands.add_parser("status", help="a job's record", epilog=EXIT_CODES)
    status.add_argument("job_id")
    status.add_argument("--wait", type=float, default=0, metavar="S", help="wait up to S seconds for it to end")
    status.add_argument("--json", action="store_true", help="print the record as JSON")
    cancel = commands.add_parser("cancel", help="cancel a queued or running job", epilog=EXIT_CODES)
    cancel.add_argument("job_id")
    cancel.add_argument("--json", action="store_true", help="print the record as JSON")
    for name, what in (("stats", "where the jobs are, totals and usage"), ("workers", "registered workers")):
        commands.add_parser(name, help=what).add_argument("--json", action="store_true", help="print JSON")
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
    hooks = commands.add_parser("webhooks", help="webhook deliveries given up (WEBHOOK_MAX_ATTEMPTS)")
    hook_actions = hooks.add_subparsers(dest="action", required=True)
    hook_list = hook_actions.add_parser("dead", help="the dead deliveries' job ids and last errors, newest first")
    hook_list.add_argument("--limit", type=_positive, default=50, help="most to show (default 50)")
    resend = hook_actions.add_parser("resend", help="deliver again (the same webhook-id): one job by id, or --all")
    target = resend.add_mutually_exclusive_group(required=True)
    target.add_argument("job_id", nargs="?", help="the job whose delivery was given up")
    target.add_argument("--all", action="store_true", help="every dead delivery")
    return parser


async def run_cli(settings: Settings, argv: list[str]) -> int:
    """Run one command; returns the exit code (EXIT_CODES)."""
    args = _parser().parse_args(argv)
    args.max_text_chars = settings.max_text_chars
    if settings.redis_url is None:  # the embedded broker lives inside a service process
        settings = dataclasses.replace(settings, redis_url="redis://localhost:6379/0")
    redis = RedisFactory(settings).client()
    queue = Queue.from_settings(redis, settings)
    commands = {"submit": _submit, "status": _status, "cancel": _cancel, "stats": _stats, "workers": _workers}
    commands |= {"dead": _dead, "webhooks": _webhooks}
    try:
        return await commands[args.command](queue, args)
    except UNAVAILABLE as exc:
        url = settings.redis_url or ""
        reason = Redactor([url_password(url) or ""]).redact(str(exc))  # a client's error may quote the URL
        print(f"error: Redis at {mask_url(url)} is not reachable ({reason}); set REDIS_URL", file=sys.stderr)
        return 3
    finally:
        await redis.aclose()


async def _dead(queue: Queue, args: argparse.Namespace) -> int:
    if args.action == "list":
        entries = await queue.dead.newest(args.limit)
        for entry in entries:
            entry.pop("raw")
            line = orjson.dumps(entry).decode() if args.json else f"{entry['id']}\t{entry['reason']}"
            print(line)
        if not args.json:
            print(f"{len(entries)} dead message(s) shown", file=sys.stderr)
        return 0
    job_id = None if args.all else args.job_id
    if args.action == "requeue":
        count, problems = await queue.dead.requeue(job_id)
        for problem in problems:
            print(f"skipped: {problem}", file=sys.stderr)
        print(f"requeued {count}")
    else:
        count = await queue.dead.purge(job_id)
        print(f"purged {count}")
    return 0 if count or job_id is None else 1


async def _webhooks(queue: Queue, args: argparse.Namespace) -> int:
    outbox = queue.outbox
    if args.action == "dead":
        job_ids = await outbox.dead(args.limit)
        for job_id in job_ids:
            record = await queue.reads.get_job(job_id) or {}
            print(f"{job_id}\t{record.get('callback_url', '-')}\t{record.get('webhook_error', 'its record expired')}")
        print(f"{len(job_ids)} dead deliver{'y' if len(job_ids) == 1 else 'ies'} shown", file=sys.stderr)
        return 0
    job_ids = await outbox.dead(10_000) if args.all else [args.job_id]
    resent = 0
    for job_id in job_ids:
        outcome = await outbox.resend(job_id)
        resent += outcome == 1
        if outcome == 0:
            print(f"skipped {job_id}: its delivery is not dead (delivered, pending, or no callback)", file=sys.stderr)
        elif outcome == -1:
            print(f"skipped {job_id}: its job record expired (RESULT_TTL): nothing left to send", file=sys.stderr)
    print(f"resent {resent}")
    return 0 if resent or args.all else 1


async def _submit(queue: Queue, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    raw_options = {"max_words": args.max_words, "format": args.format, "language": args.language}
    try:
        if not text.strip():
            raise InvalidOption("text", "the text is empty: give the text to summarize, or - for standard input")
        if len(text) > args.max_text_chars:
            raise InvalidOption("text", f"the text has {len(text)} characters; the limit is MAX_TEXT_CHARS")
        options = parse_options({k: v for k, v in raw_options.items() if v is not None})
    except InvalidOption as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    mode = Mode.BATCH if args.batch else Mode.INTERACTIVE
    message = new_message(text, options, priority=Priority(args.priority), mode=mode)
    async with _results(queue) as hub:  # subscribed before the push: no result can slip by
        await queue.producer.enqueue(message)
        if args.wait <= 0:
            _show({"id": message.id, "status": "queued"}, args.json)
            return 0
        return await _show_when_final(queue, hub, message.id, args)


async def _status(queue: Queue, args: argparse.Namespace) -> int:
    async with _results(queue) as hub:
        return await _show_when_final(queue, hub, args.job_id, args)


async def _show_when_final(queue: Queue, hub: ResultHub, job_id: str, args: argparse.Namespace) -> int:
    record = await until_final(queue.reads, hub, job_id, max(args.wait, 0))
    if record is None:
        print(f"error: no job with id {job_id!r} (unknown, or expired after RESULT_TTL)", file=sys.stderr)
        return 4
    _show(record, args.json)
    if is_final(record):
        return 0 if record["status"] == "done" else 1
    return 5 if args.wait > 0 else 0


async def _cancel(queue: Queue, args: argparse.Namespace) -> int:
    """As DELETE /jobs/{id}, for an operator: any tenant's job."""
    record = await queue.reads.get_job(args.job_id)
    outcome = Cancelled.UNKNOWN
    if record is not None:
        outcome, record = await queue.producer.cancel(args.job_id, record)
    if outcome == Cancelled.UNKNOWN or record is None:
        print(f"error: no job with id {args.job_id!r} (unknown, or expired after RESULT_TTL)", file=sys.stderr)
        return 4
    _show(record, args.json)
    if outcome == Cancelled.ALREADY_FINAL:
        print(f"error: job {args.job_id!r} had already ended {record['status']}: nothing cancelled", file=sys.stderr)
        return 1
    return 0


def _show(record: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(orjson.dumps(record).decode())
        return
    line = f"{record['id']}\t{record['status']}"
    if "attempts" in record:
        line += f"\tattempts={record['attempts']}"
    print(line)
    if "summary" in record:
        print(record["summary"])
    if "error" in record:
        print(f"error: {record['error']}")


async def _stats(queue: Queue, args: argparse.Namespace) -> int:
    numbers = await queue.reads.stats()
    if args.json:
        print(orjson.dumps(numbers).decode())
        return 0
    for name in ("queued", "processing", "delayed", "dead"):
        print(f"{name:<11}{numbers[name]}")
    for name in ("queued_by_priority", "queued_by_tenant"):
        by = numbers[name].items()  # type: ignore[attr-defined]
        print(f"{'  by ' + name.rsplit('_', 1)[-1]:<11}" + "  ".join(f"{k}={v}" for k, v in by))
    print("totals     " + "  ".join(f"{k}={v}" for k, v in numbers["totals"].items()))  # type: ignore[attr-defined]
    print("usage      " + "  ".join(f"{k}={v}" for k, v in numbers["usage"].items()))  # type: ignore[attr-defined]
    print(f"workers    {len(numbers['workers'])}")  # type: ignore[arg-type]
    return 0


async def _workers(queue: Queue, args: argparse.Namespace) -> int:
    rows: list[dict[str, object]] = (await queue.reads.stats())["workers"]  # type: ignore[assignment]
    for row in rows:
        if args.json:
            print(orjson.dumps(row).decode())
            continue
        state = "alive" if row["alive"] else "silent (its jobs are recovered)"
        age = f"beat {row['heartbeat_age_s']}s ago" if "heartbeat_age_s" in row else ""
        print(f"{row['id']}\t{state}\tholding {row['processing']}\t{age}".rstrip())
    if not args.json:
        print(f"{len(rows)} worker(s)", file=sys.stderr)
    return 0


@contextlib.asynccontextmanager
async def _results(queue: Queue) -> AsyncIterator[ResultHub]:
    """The queue's result events, subscribed (or Redis is unreachable: UNAVAILABLE)."""
    hub = ResultHub.of(queue.redis, queue.keys)
    await hub.start()
    try:
        if not await hub.wait_subscribed(SUBSCRIBE_WITHIN_S):
            raise RedisConnectionError(f"not subscribed to {queue.keys.channel!r} within {SUBSCRIBE_WITHIN_S:g} s")
        yield hub
    finally:
        await hub.stop()
