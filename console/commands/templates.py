"""`jobdeck template ...`: list, show, create, update, delete, copy and revisions."""

from __future__ import annotations

import argparse
from typing import Any

from console.commands import Context, Subparsers, add_noun, add_verb, execution
from console.commands.configs import config_values, job_type_schema, merged_config, merged_params
from console.commands.options import build, duration
from console.commands.output import (
    block,
    compact,
    details,
    emit,
    plural,
    print_json,
    seconds,
    table,
    when,
)
from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.views import TemplateView
from core.errors import Conflict, ValidationFailed
from core.jobs.parameters import ParameterSpec, parse_parameter_declaration

OVERLAP = ("skip", "queue", "replace", "allow")


def register(subparsers: Subparsers) -> None:
    """Add `jobdeck template` and its verbs."""
    verbs = add_noun(subparsers, "template", "job templates: what to run")
    p = add_verb(verbs, "list", list_templates, "list templates", json=True)
    p.add_argument("--type", help="only templates of this job type")
    p.add_argument("--tag", help="only templates with this tag")
    p.add_argument("--search", metavar="TEXT", help="only names containing TEXT")
    p = add_verb(verbs, "show", show, "show one template", json=True)
    p.add_argument("name", metavar="NAME", help="template name or id")
    p = add_verb(verbs, "create", create, "create a template", writes=True, json=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--type", required=True, help="job type: shell, python, http, git, ...")
    _content_options(p)
    p = add_verb(
        verbs, "update", update, "change a template (a new revision)", writes=True, json=True
    )
    p.add_argument("name", metavar="NAME", help="template name or id")
    p.add_argument("--name", dest="new_name", metavar="NEW_NAME", help="rename the template")
    _content_options(p)
    p.add_argument("--unset-config", action="append", metavar="KEY", help="drop a config key")
    p.add_argument("--drop-param", action="append", metavar="NAME", help="remove a parameter")
    p.add_argument("--no-params", action="store_true", help="remove every parameter")
    p.add_argument("--no-tags", action="store_true", help="remove every tag")
    for what in ("description", "timeout", "deadline", "overlap"):
        p.add_argument(f"--no-{what}", action="store_true", help=f"clear the {what}")
    p = add_verb(verbs, "delete", delete, "delete a template", writes=True)
    p.add_argument("name", metavar="NAME", help="template name or id")
    p.add_argument("--force", action="store_true", help="also delete the schedules using it")
    p = add_verb(verbs, "copy", copy, "copy a template under a new name", writes=True, json=True)
    p.add_argument("name", metavar="NAME", help="template name or id")
    p.add_argument("new_name", metavar="NEW_NAME")
    execution.add_template_verbs(verbs)
    p = add_verb(verbs, "revisions", revisions, "list a template's saved revisions", json=True)
    p.add_argument("name", metavar="NAME", help="template name or id")


def _content_options(p: argparse.ArgumentParser) -> None:
    """Options create and update share."""
    p.add_argument(
        "--config",
        action="append",
        metavar="KEY=VALUE",
        help="config entry, typed by the job type's schema (JSON for non-string keys); "
        "list keys repeat to append; KEY.SUB=VALUE sets one entry of an object (env.LANG=C)",
    )
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME:TYPE[=DEFAULT]",
        help="declare a parameter (string, int, float, bool, secret, choice(a|b)); "
        "on update it adds the parameter or replaces the one of that name",
    )
    p.add_argument("--description", metavar="TEXT")
    p.add_argument("--tag", action="append", help="a tag (repeat for more; update replaces)")
    p.add_argument("--timeout", metavar="DURATION", help="per-attempt timeout, e.g. 10m")
    p.add_argument("--deadline", metavar="DURATION", help="overall deadline across retries")
    p.add_argument("--retries", type=int, metavar="N", help="retries after a failure (0-100)")
    p.add_argument("--retry-backoff", choices=("fixed", "exponential"))
    p.add_argument("--retry-delay", metavar="DURATION", help="delay before the first retry")
    p.add_argument("--overlap", choices=OVERLAP, help="default overlap policy for schedules")
    p.add_argument("--keep-success", type=int, metavar="N", help="history: keep N successful runs")
    p.add_argument("--keep-failure", type=int, metavar="N", help="history: keep N failed runs")
    p.add_argument(
        "--max-age-days",
        type=int,
        metavar="N",
        help="history: drop runs older than N days (the last success and failure stay)",
    )


def _retention(args: argparse.Namespace) -> dict[str, int]:
    """The retention numbers given as options (update merges them into the current ones)."""
    given = {
        "keep_success": args.keep_success,
        "keep_failure": args.keep_failure,
        "max_age_days": args.max_age_days,
    }
    return {key: value for key, value in given.items() if value is not None}


def _common_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The fields create and update read the same way; None means "not given"."""
    params = None
    if args.param:
        params = tuple(parse_parameter_declaration(text) for text in args.param)
    return {
        "parameters": params,
        "description": args.description,
        "tags": tuple(args.tag) if args.tag else None,
        "timeout_seconds": duration(args.timeout, "--timeout"),
        "deadline_seconds": duration(args.deadline, "--deadline"),
        "retries": args.retries,
        "retry_backoff": args.retry_backoff,
        "retry_delay_seconds": duration(args.retry_delay, "--retry-delay"),
        "overlap": args.overlap,
    }


async def list_templates(ctx: Context, args: argparse.Namespace) -> int:
    """Print templates as a table or JSON."""
    items = await ctx.backend.list_templates(job_type=args.type, tag=args.tag, search=args.search)
    if args.json:
        print_json(list(items))
        return 0
    if not items:
        emit("no templates")
        return 0
    table(
        ("ID", "NAME", "TYPE", "REV", "SCHEDULES", "LAST RUN", "TAGS", "DESCRIPTION"),
        [
            (
                t.id,
                t.name,
                f"{t.job_type} (BROKEN)" if t.broken else t.job_type,
                t.revision,
                t.schedule_count,
                t.last_run_status,
                ",".join(t.tags),
                t.description,
            )
            for t in items
        ],
        right=(0, 3, 4),
    )
    return 0


def _param_line(p: ParameterSpec) -> str:
    kind = f"choice({'|'.join(p.choices)})" if p.type == "choice" else p.type
    default = "" if p.default is None else f" = {compact(p.default)}"
    return f"{p.name}: {kind}{default}{' (required)' if p.required else ''}"


def show_template(t: TemplateView, zone: str) -> None:
    """The human page of one template."""
    retries = f"{t.retries} ({t.retry_backoff}, first after {seconds(t.retry_delay_seconds)})"
    kind = f"{t.job_type} (BROKEN: {t.broken})" if t.broken else t.job_type
    details(
        [
            ("id", t.id),
            ("name", t.name),
            ("type", kind),
            ("description", t.description),
            ("revision", t.revision),
            ("tags", ", ".join(t.tags)),
            ("timeout", seconds(t.timeout_seconds)),
            ("deadline", seconds(t.deadline_seconds)),
            ("retries", retries if t.retries else "0"),
            ("overlap", t.overlap),
            ("paused", "yes" if t.paused else "no"),
            ("retention", ", ".join(f"{k} {v}" for k, v in (t.retention or {}).items()) or None),
            ("schedules", t.schedule_count),
            ("last run", t.last_run_status),
            ("owner", t.owner),
            ("created", when(t.created_at, zone)),
            ("updated", when(t.updated_at, zone)),
        ]
    )
    block("config", [f"{key}: {compact(value)}" for key, value in t.config.items()])
    block("parameters", [_param_line(p) for p in t.parameters])


async def show(ctx: Context, args: argparse.Namespace) -> int:
    """Print one template."""
    template = await ctx.backend.get_template(args.name)
    if args.json:
        print_json(template)
    else:
        show_template(template, ctx.zone)
    return 0


async def create(ctx: Context, args: argparse.Namespace) -> int:
    """Create a template from the options."""
    schema = await job_type_schema(ctx.backend, args.type)
    fields = {key: value for key, value in _common_fields(args).items() if value is not None}
    config = config_values(args.config or [], schema, args.type)
    if retention := _retention(args):
        fields["retention"] = retention
    spec = build(TemplateSpec, name=args.name, job_type=args.type, config=config, **fields)
    template = await ctx.backend.create_template(spec)
    if args.json:
        print_json(template)
    else:
        emit(f"created template {template.name} (id {template.id}, revision {template.revision})")
    return 0


async def update(ctx: Context, args: argparse.Namespace) -> int:
    """Apply the given changes; config entries merge into the current config."""
    fields = {key: value for key, value in _common_fields(args).items() if value is not None}
    if args.new_name:
        fields["name"] = args.new_name
    if args.param or args.drop_param or args.no_params:
        fields["parameters"] = await merged_params(ctx.backend, args)
    if args.no_tags:
        fields["tags"] = ()
    clear = tuple(
        name
        for flag, name in (
            ("no_description", "description"),
            ("no_timeout", "timeout_seconds"),
            ("no_deadline", "deadline_seconds"),
            ("no_overlap", "overlap"),
        )
        if getattr(args, flag)
    )
    if args.config or args.unset_config:
        fields["config"] = await merged_config(ctx.backend, args)
    if retention := _retention(args):
        current = await ctx.backend.get_template(args.name)
        fields["retention"] = {**(current.retention or {}), **retention}
    if not fields and not clear:
        raise ValidationFailed("template update", "nothing to change; give at least one option")
    template = await ctx.backend.update_template(
        args.name, build(TemplatePatch, clear=clear, **fields)
    )
    if args.json:
        print_json(template)
    else:
        emit(f"updated template {template.name}: now revision {template.revision}")
    return 0


async def delete(ctx: Context, args: argparse.Namespace) -> int:
    """Delete a template, saying which schedules went with it."""
    try:
        report = await ctx.backend.delete_template(args.name, force=args.force)
    except Conflict as exc:
        if args.force:
            raise
        raise Conflict(f"{exc.message} (--force)") from None
    emit(f"deleted template {report.name}")
    if report.removed_schedules:
        names = ", ".join(report.removed_schedules)
        emit(f"removed {plural(len(report.removed_schedules), 'schedule')}: {names}")
    return 0


async def copy(ctx: Context, args: argparse.Namespace) -> int:
    """Copy a template (schedules are not copied)."""
    template = await ctx.backend.copy_template(args.name, args.new_name)
    if args.json:
        print_json(template)
    else:
        emit(f"copied template {args.name} to {template.name} (id {template.id})")
    return 0


async def revisions(ctx: Context, args: argparse.Namespace) -> int:
    """List a template's revisions with the fields each one changed."""
    items = await ctx.backend.template_revisions(args.name)
    if args.json:
        print_json(list(items))
        return 0
    rows = []
    for index, rev in enumerate(items):
        older = items[index + 1].snapshot if index + 1 < len(items) else None
        if older is None:
            changed = "created"
        else:
            keys = [k for k in rev.snapshot if k != "revision" and rev.snapshot[k] != older.get(k)]
            changed = ", ".join(keys) or "(no field changes)"
        rows.append((rev.revision, when(rev.created_at, ctx.zone), rev.changed_by, changed))
    table(("REV", "SAVED", "BY", "CHANGED"), rows, right=(0,))
    return 0
