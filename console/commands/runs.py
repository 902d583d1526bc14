"""`jobdeck run ...`: list (filtered, paged), show, delete, cleanup and clear."""

from __future__ import annotations

import argparse
from typing import Any

from console.commands import Context, Subparsers, add_noun, add_verb, execution
from console.commands.options import build, point_in_time, split_values
from console.commands.output import (
    block,
    clean,
    compact,
    details,
    emit,
    plural,
    print_json,
    seconds,
    table,
    when,
)
from core.backend.inputs import RunFilter, RunQuery
from core.backend.views import RunView
from core.errors import ValidationFailed

SORT_KEYS = ("queued_at", "started_at", "completed_at", "duration_seconds", "job_name", "id")


def register(subparsers: Subparsers) -> None:
    """Add `jobdeck run` and its verbs."""
    verbs = add_noun(subparsers, "run", "runs: what happened")
    p = add_verb(verbs, "list", list_runs, "list runs, newest first", json=True)
    _filter_options(p)
    p.add_argument("--since", metavar="WHEN", help="queued at or after (ISO time or 2h, 7d ago)")
    p.add_argument("--until", metavar="WHEN", help="queued before (ISO time or 2h, 7d ago)")
    p.add_argument("--search", metavar="TEXT", help="job name contains TEXT")
    p.add_argument("--sort", choices=SORT_KEYS, default="queued_at")
    p.add_argument("--asc", action="store_true", help="oldest / smallest first")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="page size (1-1000)")
    p.add_argument("--cursor", help="the next_cursor of the previous page")
    p = add_verb(verbs, "show", show, "show one run", json=True)
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p = add_verb(verbs, "delete", delete, "delete one finished run", writes=True)
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p = add_verb(verbs, "cleanup", cleanup, "delete finished runs older than N days", writes=True)
    p.add_argument("--days", type=int, required=True, metavar="N")
    p = add_verb(verbs, "clear", clear, "delete finished runs matching filters", writes=True)
    _filter_options(p)
    p.add_argument("--before", metavar="WHEN", help="queued before (ISO time or 2h, 7d ago)")
    p.add_argument("--all", action="store_true", help="no filter: every finished run")
    execution.add_run_verbs(verbs)


def _filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--status", action="append", help="status (repeat or comma-separate)")
    p.add_argument("--type", action="append", help="job type")
    p.add_argument("--trigger", action="append", help="schedule, manual, retry, backfill, ...")
    p.add_argument("--template", action="append", help="template name or id")
    p.add_argument("--schedule", action="append", help="schedule name or id")


async def _filters(ctx: Context, args: argparse.Namespace) -> dict[str, Any]:
    """The filter fields shared by list and clear; names resolve to ids through the backend."""
    template_ids = tuple(
        [(await ctx.backend.get_template(ref)).id for ref in split_values(args.template)]
    )
    schedule_ids = tuple(
        [(await ctx.backend.get_schedule(ref)).id for ref in split_values(args.schedule)]
    )
    return {
        "status": split_values(args.status),
        "job_type": split_values(args.type),
        "triggered_by": split_values(args.trigger),
        "template_id": template_ids,
        "schedule_id": schedule_ids,
    }


async def list_runs(ctx: Context, args: argparse.Namespace) -> int:
    """Print one page of runs and how to fetch the next."""
    if not 1 <= args.limit <= 1000:
        raise ValidationFailed("--limit", f"{args.limit} is outside 1..1000")
    query = build(
        RunQuery,
        **await _filters(ctx, args),
        since=point_in_time(args.since, ctx.zone, "--since", ctx.now()) if args.since else None,
        until=point_in_time(args.until, ctx.zone, "--until", ctx.now()) if args.until else None,
        search=args.search,
        sort=args.sort,
        descending=not args.asc,
        limit=args.limit,
        cursor=args.cursor,
    )
    page = await ctx.backend.list_runs(query)
    if args.json:
        print_json(page)
        return 0
    if not page.items:
        emit("no runs")
        return 0
    table(
        ("ID", "JOB", "TYPE", "STATUS", "TRIGGER", "QUEUED", "DURATION", "EXIT"),
        [
            (
                r.id,
                r.job_name,
                r.job_type,
                r.status,
                r.triggered_by,
                when(r.queued_at, ctx.zone),
                seconds(r.duration_seconds),
                r.exit_code,
            )
            for r in page.items
        ],
        right=(0, 6, 7),
    )
    emit(f"{len(page.items)} of {plural(page.total, 'run')}")
    if page.next_cursor:
        emit(f"next page: --cursor {page.next_cursor}")
    return 0


def show_run(r: RunView, zone: str) -> None:
    """The human page of one run; times in the operator's zone."""
    details(
        [
            ("id", r.id),
            ("job", r.job_name),
            ("type", r.job_type),
            ("status", r.status),
            ("triggered by", r.triggered_by),
            ("template", f"{r.template_name or '(deleted)'} (revision {r.template_revision})"),
            ("schedule", r.schedule_name),
            ("scheduled for", when(r.scheduled_for, zone)),
            ("queued", when(r.queued_at, zone)),
            ("started", when(r.started_at, zone)),
            ("completed", when(r.completed_at, zone)),
            ("duration", seconds(r.duration_seconds)),
            ("attempts", f"{r.attempts} of {r.max_attempts}"),
            ("exit code", r.exit_code),
            ("signal", r.signal),
            ("worker", r.worker),
            ("host", f"{r.host} (pid {r.pid})" if r.host else None),
            ("error", r.error_message if "\n" not in (r.error_message or "") else "see below"),
            ("result", None if r.result is None else compact(r.result)),
            ("log size", f"{r.log_size} bytes"),
        ]
    )
    block("parameters", [f"{k} = {compact(v)}" for k, v in r.parameters.items()])
    if r.error_message and "\n" in r.error_message:
        block("error", [clean(line) for line in r.error_message.splitlines()])


async def show(ctx: Context, args: argparse.Namespace) -> int:
    """Print one run."""
    run = await ctx.backend.get_run(args.run_id)
    if args.json:
        print_json(run)
    else:
        show_run(run, ctx.zone)
    return 0


async def delete(ctx: Context, args: argparse.Namespace) -> int:
    """Delete one finished run."""
    await ctx.backend.delete_run(args.run_id)
    emit(f"deleted run {args.run_id}")
    return 0


async def cleanup(ctx: Context, args: argparse.Namespace) -> int:
    """Delete finished runs older than --days."""
    count = await ctx.backend.cleanup_runs(args.days)
    emit(f"deleted {plural(count, 'finished run')} older than {plural(args.days, 'day')}")
    return 0


async def clear(ctx: Context, args: argparse.Namespace) -> int:
    """Delete finished runs matching the filters; pending and running runs are never touched."""
    fields = await _filters(ctx, args)
    if args.before:
        fields["before"] = point_in_time(args.before, ctx.zone, "--before", ctx.now())
    if not args.all and not any(fields.values()):
        raise ValidationFailed(
            "run clear", "give a filter (--status, --type, --before, ...) or --all"
        )
    count = await ctx.backend.clear_runs(build(RunFilter, **fields))
    emit(f"deleted {plural(count, 'finished run')}")
    return 0
