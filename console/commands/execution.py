"""Running things: `template run`, `run logs|cancel|retry`, `ledger` and `daemon`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from console.commands import Context, Subparsers, add_verb
from console.commands.options import UsageError, param_values
from console.commands.output import clean, emit, print_json, table, when
from core.backend.views import TERMINAL_STATUSES, LogChunkView, RunView
from core.jobs.durations import parse_duration

POLL_SECONDS = 0.3


def add_template_verbs(verbs: Subparsers) -> None:
    """`jobdeck template run`."""
    p = add_verb(verbs, "run", run_template, "run a template now", writes=True, json=True)
    p.add_argument("name", metavar="NAME", help="template name or id")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="parameter value")
    p.add_argument("--wait", action="store_true", help="wait; exit 0 only if it completed")
    p.add_argument("--force", action="store_true", help="ignore pause and overlap policies")


def add_run_verbs(verbs: Subparsers) -> None:
    """`jobdeck run logs|cancel|retry`."""
    p = add_verb(verbs, "logs", logs, "print a run's output")
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until it ends")
    p.add_argument("--attempt", type=int, help="only this attempt's output")
    p = add_verb(verbs, "cancel", cancel, "cancel a pending or running run", writes=True)
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p.add_argument("--reason", help="recorded with the run")
    p = add_verb(verbs, "retry", retry, "run an ended run again (a new run)", writes=True)
    p.add_argument("run_id", type=int, metavar="RUN_ID")


def register(subparsers: Subparsers) -> None:
    """Add the `ledger` and `daemon` commands."""
    p = subparsers.add_parser(
        "ledger", help="the occurrence ledger: what became of each due occurrence"
    )
    p.set_defaults(handler=ledger, writes=False, verb="list")
    p.add_argument("--schedule", metavar="NAME", help="one schedule's occurrences")
    p.add_argument("--limit", type=int, default=100, metavar="N")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p = subparsers.add_parser(
        "daemon", help="run headless: own the database, schedule and execute jobs"
    )
    p.set_defaults(standalone=daemon, verb="run")
    p.add_argument(
        "--grace",
        default="30s",
        metavar="DURATION",
        help="on SIGTERM, how long running jobs may finish before they are cancelled",
    )
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    p.add_argument("--host", help="API address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="API port (default 8765; 0 picks a free one)")
    p.add_argument("--socket", type=Path, metavar="PATH", help="serve the API on a unix socket")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (tokens cross the network; put TLS in front)",
    )


async def run_template(ctx: Context, args: argparse.Namespace) -> int:
    """Queue a run; execute it here when no owner is running; optionally wait for its end."""
    params = param_values(args.param or [])
    run = await ctx.backend.run_template(args.name, parameters=params, force=args.force)
    if not args.json:
        emit(str(run.id))
    here = await _execute_here(ctx, run.id)
    if not (args.wait or here):
        if args.json:
            print_json(run)
        return 0
    final = await wait_for_end(ctx, run.id)
    if args.json:
        print_json(final)
    else:
        detail = f": {clean(final.error_message)}" if final.error_message else ""
        sys.stderr.write(f"run {final.id} {final.status}{detail}\n")
    return 0 if final.status == "completed" or not args.wait else 1


async def _execute_here(ctx: Context, run_id: int) -> bool:
    """With no live owner, run it in this process (True); with one, the owner runs it."""
    if ctx.settings is None:
        return False
    from core.manual import execute_here

    return await execute_here(ctx.backend, ctx.settings, run_id)


async def wait_for_end(ctx: Context, run_id: int) -> RunView:
    """Poll until the run has ended."""
    while True:
        run = await ctx.backend.get_run(run_id)
        if run.status in TERMINAL_STATUSES:
            return run
        await asyncio.sleep(POLL_SECONDS)


def _write(chunk: LogChunkView) -> None:
    if chunk.stream == "system":
        sys.stdout.write(f"-- jobdeck: {chunk.data.rstrip()}\n")
    else:
        sys.stdout.write(chunk.data)
    sys.stdout.flush()


async def logs(ctx: Context, args: argparse.Namespace) -> int:
    """Print a run's log; with -f keep following until the run ends."""
    after = 0
    while True:
        page = await ctx.backend.run_logs(args.run_id, after_seq=after, limit=1000)
        for chunk in page.chunks:
            if args.attempt is None or chunk.attempt == args.attempt:
                _write(chunk)
        after = page.next_seq
        if page.chunks and not page.finished:
            continue  # a full page: more is already there
        if page.finished or not args.follow:
            return 0
        await asyncio.sleep(POLL_SECONDS)


async def cancel(ctx: Context, args: argparse.Namespace) -> int:
    """Cancel a run."""
    run = await ctx.backend.cancel_run(args.run_id, reason=args.reason)
    if run.status == "cancelled":
        emit(f"run {run.id} cancelled")
    else:
        emit(f"run {run.id} is {run.status}: asked its executor to stop it")
    return 0


async def retry(ctx: Context, args: argparse.Namespace) -> int:
    """Queue a retry of an ended run; print the new run's id."""
    run = await ctx.backend.retry_run(args.run_id)
    emit(str(run.id))
    await _execute_here(ctx, run.id)
    return 0


async def ledger(ctx: Context, args: argparse.Namespace) -> int:
    """List occurrences with their outcome and reason."""
    rows = await ctx.backend.list_occurrences(schedule=args.schedule, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    table(
        ("SCHEDULED FOR", "SCHEDULE", "OUTCOME", "REASON", "RUN", "LATE"),
        (
            (
                when(r.scheduled_for, ctx.zone),
                r.schedule_name,
                r.outcome,
                r.reason,
                r.run_id,
                f"{r.lateness_seconds:.1f}s" if r.lateness_seconds is not None else None,
            )
            for r in rows
        ),
    )
    return 0


def daemon(settings: Any, args: argparse.Namespace) -> int:
    """Run `jobdeck daemon` (blocking until SIGTERM/SIGINT)."""
    from core.api.serve import DEFAULT_HOST, DEFAULT_PORT, Listen, check_listen
    from core.daemon import run_daemon

    grace = parse_duration(args.grace, "--grace")
    if args.socket is not None and (args.host is not None or args.port is not None):
        raise UsageError("daemon: --socket cannot be combined with --host or --port")
    listen = Listen(
        host=args.host or DEFAULT_HOST,
        port=DEFAULT_PORT if args.port is None else args.port,
        socket_path=args.socket,
        allow_remote=args.allow_remote,
    )
    check_listen(listen)  # before logging starts, so the refusal is the one line printed
    return run_daemon(settings, grace=grace, log_level=args.log_level, listen=listen)
