"""`jobdeck schedule ...`: list, show, create, update, delete, enable, disable and preview."""

from __future__ import annotations

import argparse
from typing import Any

from console.commands import Context, Subparsers, add_noun, add_verb
from console.commands.options import build, duration, param_values, split_values
from console.commands.output import block, compact, details, emit, print_json, seconds, table, when
from console.commands.timing import (
    add_timing_options,
    chosen_timing,
    jitter_fields,
    timing_fields,
    window_fields,
)
from core.backend.inputs import SchedulePatch, ScheduleSpec
from core.backend.views import FireTimeView, ScheduleView
from core.errors import ValidationFailed


def register(subparsers: Subparsers) -> None:
    """Add `jobdeck schedule` and its verbs."""
    verbs = add_noun(subparsers, "schedule", "schedules: when templates run")
    p = add_verb(verbs, "list", list_schedules, "list schedules", json=True)
    p.add_argument("--template", help="only schedules of this template")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--enabled", action="store_true", help="only enabled schedules")
    state.add_argument("--disabled", action="store_true", help="only disabled schedules")
    p = add_verb(verbs, "show", show, "show one schedule", json=True)
    p.add_argument("name", metavar="NAME", help="schedule name or id")
    p = add_verb(verbs, "create", create, "create a schedule", writes=True, json=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--template", required=True, help="template name or id")
    add_timing_options(p, required=True)
    _policy_options(p)
    p.add_argument("--disabled", action="store_true", help="create it disabled")
    p = add_verb(verbs, "update", update, "change a schedule", writes=True, json=True)
    p.add_argument("name", metavar="NAME", help="schedule name or id")
    p.add_argument("--name", dest="new_name", metavar="NEW_NAME", help="rename the schedule")
    p.add_argument("--template", help="move the schedule to another template")
    add_timing_options(p, required=False)
    p.add_argument("--no-start", action="store_true", help="remove the start of the window")
    p.add_argument("--no-end", action="store_true", help="remove the end of the window")
    _policy_options(p)
    p.add_argument("--unset-param", action="append", metavar="KEY", help="drop an override")
    for verb, handler, summary in (
        ("delete", delete, "delete a schedule (its runs stay in the history)"),
        ("enable", enable, "enable a schedule"),
        ("disable", disable, "disable a schedule (no next run)"),
    ):
        p = add_verb(verbs, verb, handler, summary, writes=True, json=verb != "delete")
        p.add_argument("name", metavar="NAME", help="schedule name or id")
    p = add_verb(verbs, "preview", preview, "next fire times of a schedule or timing", json=True)
    p.add_argument("name", metavar="NAME", nargs="?", help="a stored schedule (or timing options)")
    add_timing_options(p, required=False)
    p.add_argument("-n", type=int, default=10, metavar="N", help="how many (1-1000, default 10)")
    p.add_argument("--viewer-tz", metavar="ZONE", help="also show the times in this zone")


def _policy_options(p: argparse.ArgumentParser) -> None:
    """Parameter overrides and the run policies (defaults: SCHEDULING.md)."""
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="parameter override")
    p.add_argument("--deadline", metavar="DURATION", help="start deadline (default 5m)")
    p.add_argument("--catchup", choices=("none", "latest", "all"), help="after downtime")
    p.add_argument("--catchup-cap", type=int, metavar="N", help="most missed runs to catch up")
    p.add_argument("--overlap", choices=("skip", "queue", "replace", "allow"))
    p.add_argument("--overlap-max", type=int, metavar="N", help="concurrent runs allowed")
    p.add_argument("--jitter", metavar="KIND:DURATION", help="random:30s, hash:30s or off")


def _policy_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "start_deadline_seconds": duration(args.deadline, "--deadline"),
        "catchup": args.catchup,
        "catchup_cap": args.catchup_cap,
        "overlap": args.overlap,
        "overlap_max": args.overlap_max,
        **jitter_fields(args.jitter),
    }
    return {key: value for key, value in fields.items() if value is not None}


def _ensure_future(ctx: Context, fields: dict[str, Any], args: argparse.Namespace) -> None:
    # The service refuses a past instant only for enabled schedules; a disabled one is as dead.
    run_at = fields.get("run_at")
    if run_at is not None and run_at <= ctx.now():
        raise ValidationFailed("--at", f"{args.at} is in the past; the schedule would never run")


async def list_schedules(ctx: Context, args: argparse.Namespace) -> int:
    """Print schedules as a table or JSON."""
    active = True if args.enabled else False if args.disabled else None
    items = await ctx.backend.list_schedules(template=args.template, is_active=active)
    if args.json:
        print_json(list(items))
        return 0
    if not items:
        emit("no schedules")
        return 0
    table(
        ("ID", "NAME", "TEMPLATE", "STATE", "WHEN", "NEXT RUN", "LAST"),
        [
            (
                s.id,
                s.job_identifier,
                s.template_name,
                "enabled" if s.is_active else "disabled",
                s.description,
                when(s.next_run, s.timezone),
                s.last_run_status,
            )
            for s in items
        ],
        right=(0,),
    )
    return 0


def show_schedule(s: ScheduleView) -> None:
    """The human page of one schedule; times in the schedule's zone."""
    jitter = "off" if s.jitter == "off" else f"{s.jitter} {seconds(s.jitter_seconds)}"
    details(
        [
            ("id", s.id),
            ("name", s.job_identifier),
            ("template", f"{s.template_name} (id {s.job_template_id}, {s.template_job_type})"),
            ("state", "enabled" if s.is_active else "disabled"),
            ("when", s.description),
            ("timezone", s.timezone),
            ("start", when(s.start_at, s.timezone)),
            ("end", when(s.end_at, s.timezone)),
            ("next run", when(s.next_run, s.timezone)),
            ("last run", when(s.last_run, s.timezone)),
            ("last status", s.last_run_status),
            ("start deadline", seconds(s.start_deadline_seconds)),
            ("catch-up", f"{s.catchup} (at most {s.catchup_cap})"),
            ("overlap", f"{s.overlap} (at most {s.overlap_max} running)"),
            ("jitter", jitter),
            ("owner", s.owner),
            ("created", when(s.created_at, s.timezone)),
            ("updated", when(s.updated_at, s.timezone)),
        ]
    )
    block("parameters", [f"{k} = {compact(v)}" for k, v in s.job_parameters.items()])


async def show(ctx: Context, args: argparse.Namespace) -> int:
    """Print one schedule."""
    schedule = await ctx.backend.get_schedule(args.name)
    if args.json:
        print_json(schedule)
    else:
        show_schedule(schedule)
    return 0


def _saved(verb: str, s: ScheduleView, args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        print_json(s)
    else:
        state = f"next run {when(s.next_run, s.timezone)}" if s.is_active else "disabled"
        emit(f"{verb} schedule {s.job_identifier} (id {s.id}): {s.description}; {state}")
    return 0


async def create(ctx: Context, args: argparse.Namespace) -> int:
    """Create a schedule from the timing and policy options."""
    zone = args.tz or ctx.zone
    fields = {**timing_fields(args, zone), **window_fields(args, zone), **_policy_fields(args)}
    _ensure_future(ctx, fields, args)
    spec = build(
        ScheduleSpec,
        job_identifier=args.name,
        template=args.template,
        timezone=zone,
        is_active=not args.disabled,
        job_parameters=param_values(args.param or []),
        **fields,
    )
    return _saved("created", await ctx.backend.create_schedule(spec), args)


async def update(ctx: Context, args: argparse.Namespace) -> int:
    """Apply the given changes; --param entries merge into the current overrides."""
    current = await ctx.backend.get_schedule(args.name)
    # Times without an offset are read in the schedule's (possibly new) zone.
    zone = args.tz or current.timezone
    fields = {**timing_fields(args, zone), **window_fields(args, zone), **_policy_fields(args)}
    _ensure_future(ctx, fields, args)
    if args.tz:
        fields["timezone"] = args.tz
    if args.new_name:
        fields["job_identifier"] = args.new_name
    if args.template:
        fields["template"] = args.template
    if args.param or args.unset_param:
        overrides = dict(current.job_parameters)
        for key in split_values(args.unset_param):
            if overrides.pop(key, None) is None:
                raise ValidationFailed(f"--unset-param {key}", "is not overridden")
        fields["job_parameters"] = {**overrides, **param_values(args.param or [])}
    clear = tuple(
        name
        for flag, name in (("no_start", "start_at"), ("no_end", "end_at"))
        if getattr(args, flag)
    )
    if not fields and not clear:
        raise ValidationFailed("schedule update", "nothing to change; give at least one option")
    patch = build(SchedulePatch, clear=clear, **fields)
    return _saved("updated", await ctx.backend.update_schedule(args.name, patch), args)


async def delete(ctx: Context, args: argparse.Namespace) -> int:
    """Delete a schedule."""
    report = await ctx.backend.delete_schedule(args.name)
    emit(f"deleted schedule {report.name} (its runs stay in the history)")
    return 0


async def enable(ctx: Context, args: argparse.Namespace) -> int:
    """Enable a schedule and show its next run."""
    return _saved("enabled", await ctx.backend.set_schedule_active(args.name, True), args)


async def disable(ctx: Context, args: argparse.Namespace) -> int:
    """Disable a schedule."""
    return _saved("disabled", await ctx.backend.set_schedule_active(args.name, False), args)


async def preview(ctx: Context, args: argparse.Namespace) -> int:
    """The next N fire times of a stored schedule or of timing options, with DST flags."""
    timing = chosen_timing(args)
    if (args.name is None) == (timing is None):
        raise ValidationFailed(
            "schedule preview",
            "give a schedule NAME or one timing option (--cron, --every, --at, --hourly, "
            "--daily, --weekly, --monthly), not both"
            if timing
            else "give a schedule NAME or one timing option (--cron, --every, --at, --hourly, "
            "--daily, --weekly, --monthly)",
        )
    if args.name is not None:
        if args.tz or args.start or args.end:
            raise ValidationFailed("--tz/--start/--end", "apply to timing options, not to NAME")
        schedule = await ctx.backend.get_schedule(args.name)
        zone, title = schedule.timezone, f"{schedule.job_identifier}: {schedule.description}"
        fires = await ctx.backend.preview_schedule(args.name, args.n, viewer_zone=args.viewer_tz)
    else:
        assert timing is not None  # checked above: exactly one of NAME and a timing option
        zone = args.tz or ctx.zone
        fields = {**timing_fields(args, zone), **window_fields(args, zone)}
        spec = build(ScheduleSpec, job_identifier="preview", template=0, timezone=zone, **fields)
        title = f"{timing} {getattr(args, timing.lstrip('-'))} ({zone})"
        fires = await ctx.backend.preview_timing(spec, args.n, viewer_zone=args.viewer_tz)
    if args.json:
        print_json(list(fires))
        return 0
    _preview_table(title, zone, fires, args.viewer_tz)
    return 0


def _dst(fire: FireTimeView) -> str:
    if fire.dst == "gap":
        return f"gap: {fire.nominal:%H:%M} does not exist (clocks jump forward)"
    if fire.dst == "fold":
        return f"fold: {fire.nominal:%H:%M} occurs twice (clocks go back)"
    return ""


def _preview_table(title: str, zone: str, fires: list[FireTimeView], viewer: str | None) -> None:
    emit(title)
    if not fires:
        emit("no upcoming fire times")
        return
    headers = ["#", f"LOCAL ({zone})", "UTC"] + ([f"VIEWER ({viewer})"] if viewer else [])
    rows = []
    for index, fire in enumerate(fires, 1):
        row: list[object] = [index, when(fire.local), when(fire.utc, "UTC")]
        if viewer:
            row.append(when(fire.viewer))
        rows.append([*row, _dst(fire)])
    table([*headers, "DST"], rows, right=(0,))
