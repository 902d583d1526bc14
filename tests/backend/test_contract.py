"""One contract suite, run against every Backend implementation (see the harness fixture)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.backend.inputs import (
    RunFilter,
    RunQuery,
    SchedulePatch,
    ScheduleSpec,
    TemplatePatch,
    TemplateSpec,
)
from core.backend.views import RUN_STATUSES, RunView, ScheduleView
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.jobs.parameters import MASK, ParameterSpec

from .harness import Harness

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # DEFAULT_START, a Monday


def shell(name: str = "hello", **fields: Any) -> TemplateSpec:
    """A valid shell template spec."""
    return TemplateSpec(name=name, job_type="shell", config={"command": "echo hello"}, **fields)


def weekly_cron(name: str, template: str = "hello", **fields: Any) -> ScheduleSpec:
    """A valid schedule spec: Mondays 09:00 UTC."""
    return ScheduleSpec(
        job_identifier=name,
        template=template,
        schedule_type="cron",
        cron_expression="0 9 * * 1",
        timezone="UTC",
        **fields,
    )


# templates -----------------------------------------------------------------------------------


async def test_create_then_get_by_id_name_and_digits(harness: Harness) -> None:
    b = harness.backend
    created = await b.create_template(
        shell(
            "backup [daily]",
            description="nightly dump",
            tags=("db", "backup", "db"),
            parameters=(
                ParameterSpec(name="target", default="app"),
                ParameterSpec(name="token", type="secret", default="s3cret"),
            ),
            timeout_seconds=60,
        )
    )
    assert created.revision == 1
    assert created.config["command"] == ["echo", "hello"]
    assert created.tags == ("db", "backup")
    assert created.owner == "tester"
    assert created.created_at == NOW
    assert [p.default for p in created.parameters] == ["app", MASK]
    for ref in (created.id, str(created.id), "backup [daily]"):
        assert await b.get_template(ref) == created


async def test_list_templates_sorted_and_filtered(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell("zeta", tags=("ops",)))
    await b.create_template(shell("alpha-sync", tags=("etl", "ops")))
    await b.create_template(
        TemplateSpec(name="probe", job_type="http", config={"url": "https://example.com/"})
    )
    assert [t.name for t in await b.list_templates()] == ["alpha-sync", "probe", "zeta"]
    assert [t.name for t in await b.list_templates(job_type="http")] == ["probe"]
    assert [t.name for t in await b.list_templates(tag="ops")] == ["alpha-sync", "zeta"]
    assert [t.name for t in await b.list_templates(search="SYNC")] == ["alpha-sync"]


async def test_update_keeps_every_revision(harness: Harness) -> None:
    b = harness.backend
    created = await b.create_template(shell("hello", description="first", timeout_seconds=30))
    harness.clock.advance(60)
    updated = await b.update_template(
        "hello", TemplatePatch(config={"command": ["echo", "bye"]}, clear=("timeout_seconds",))
    )
    assert updated.revision == 2
    assert updated.config["command"] == ["echo", "bye"]
    assert updated.timeout_seconds is None
    assert updated.description == "first"
    assert updated.updated_at == NOW + timedelta(seconds=60)
    assert updated.created_at == created.created_at
    revisions = await b.template_revisions(created.id)
    assert [r.revision for r in revisions] == [2, 1]
    assert revisions[1].snapshot["config"]["command"] == ["echo", "hello"]
    assert revisions[0].changed_by == "tester"


async def test_rename_and_copy_respect_unique_names(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell("one", tags=("a",)))
    await b.create_template(shell("two"))
    with pytest.raises(Conflict, match="'two' already exists"):
        await b.create_template(shell("two"))
    with pytest.raises(Conflict, match="'two' already exists"):
        await b.update_template("one", TemplatePatch(name="two"))
    with pytest.raises(Conflict, match="'one' already exists"):
        await b.copy_template("two", "one")
    await b.create_schedule(weekly_cron("uses-one", "one"))
    copied = await b.copy_template("one", "one-copy")
    assert (copied.revision, copied.tags, copied.schedule_count) == (1, ("a",), 0)
    assert copied.config == (await b.get_template("one")).config


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (TemplateSpec(name="x", job_type="cobol"), "job_type", "unknown job type 'cobol'"),
        (TemplateSpec(name="x", job_type="shell", config={}), "config.command", "shell"),
        (TemplateSpec(name="x", job_type="http", config={"url": "nope"}), "config.url", "URL"),
        (shell(" "), "name", "empty"),
        (shell("123"), "name", "digits"),
        (shell(tags=("bad tag",)), "tags", "'bad tag'"),
        (shell(timeout_seconds=0), "timeout_seconds", "greater than zero"),
        (shell(retries=101), "retries", "101"),
        (
            shell(parameters=(ParameterSpec(name="a"), ParameterSpec(name="A"))),
            "parameters.A",
            "declared twice",
        ),
    ],
)
async def test_bad_template_is_rejected_naming_the_field(
    harness: Harness, spec: TemplateSpec, field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed, match=words) as caught:
        await harness.backend.create_template(spec)
    assert caught.value.field == field
    assert await harness.backend.list_templates() == []


async def test_bad_update_changes_nothing(harness: Harness) -> None:
    b = harness.backend
    before = await b.create_template(shell())
    with pytest.raises(ValidationFailed) as caught:
        await b.update_template("hello", TemplatePatch(config={"command": ""}))
    assert caught.value.field == "config.command"
    with pytest.raises(ValidationFailed, match="cannot be cleared"):
        await b.update_template("hello", TemplatePatch(clear=("name",)))
    assert await b.get_template("hello") == before


async def test_missing_objects_are_not_found(harness: Harness) -> None:
    b = harness.backend
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: b.get_template("ghost"),
        lambda: b.get_template(404),
        lambda: b.update_template("ghost", TemplatePatch(description="x")),
        lambda: b.delete_template("ghost"),
        lambda: b.template_revisions("ghost"),
        lambda: b.get_schedule("ghost"),
        lambda: b.preview_schedule(404),
        lambda: b.create_schedule(weekly_cron("s", "ghost")),
        lambda: b.list_schedules(template="ghost"),
        lambda: b.get_run(404),
        lambda: b.delete_run(404),
    ]
    for call in calls:
        with pytest.raises(NotFound, match="not found"):
            await call()


async def test_delete_refused_while_scheduled_then_forced(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(shell())
    schedule = await b.create_schedule(weekly_cron("zz-weekly"))
    await b.create_schedule(weekly_cron("aa-weekly"))
    run_id = harness.add_run(template=template, schedule=schedule, scheduled_for=NOW)
    assert (await b.get_template("hello")).schedule_count == 2
    with pytest.raises(Conflict, match="used by 2 schedule\\(s\\): aa-weekly, zz-weekly"):
        await b.delete_template("hello")
    report = await b.delete_template("hello", force=True)
    assert (report.kind, report.name) == ("template", "hello")
    assert report.removed_schedules == ("aa-weekly", "zz-weekly")
    assert await b.list_schedules() == []
    run = await b.get_run(run_id)
    assert (run.job_template_id, run.job_schedule_id, run.job_name) == (None, None, "hello")
    unused = await b.create_template(shell("unused"))
    assert (await b.delete_template(unused.id)).removed_schedules == ()
    with pytest.raises(NotFound):
        await b.get_template(unused.id)


# schedules -----------------------------------------------------------------------------------

TIMINGS: list[tuple[dict[str, Any], datetime]] = [
    ({"schedule_type": "cron", "cron_expression": "0 9 * * 1"}, datetime(2026, 3, 9, 9, 0)),
    ({"schedule_type": "interval", "interval_seconds": 3600}, datetime(2026, 3, 2, 10, 30)),
    (
        {"schedule_type": "once", "run_at": datetime.fromisoformat("2026-03-05T12:00+02:00")},
        datetime(2026, 3, 5, 10, 0),
    ),
    ({"schedule_type": "hourly", "minute": 45}, datetime(2026, 3, 2, 9, 45)),
    (
        {"schedule_type": "daily", "time_of_day": "02:30", "timezone": "Europe/Riga"},
        datetime(2026, 3, 3, 0, 30),
    ),
    (
        {
            "schedule_type": "weekly",
            "weekday": 4,
            "time_of_day": "18:00",
            "timezone": "America/New_York",
        },
        datetime(2026, 3, 6, 23, 0),
    ),
    (  # day 31 in Riga comes after the EU switch to summer time (UTC+3) on March 29th
        {
            "schedule_type": "monthly",
            "day_of_month": 31,
            "time_of_day": "06:00",
            "timezone": "Europe/Riga",
        },
        datetime(2026, 3, 31, 3, 0),
    ),
]


@pytest.mark.parametrize(
    ("timing", "next_utc"), TIMINGS, ids=[timing["schedule_type"] for timing, _ in TIMINGS]
)
async def test_create_schedule_of_every_type(
    harness: Harness, timing: dict[str, Any], next_utc: datetime
) -> None:
    b = harness.backend
    await b.create_template(shell())
    fields = {"timezone": "UTC", **timing}
    created = await b.create_schedule(ScheduleSpec(job_identifier="s1", template="hello", **fields))
    assert created.next_run == next_utc.replace(tzinfo=UTC)
    assert (created.schedule_type, created.timezone) == (
        timing["schedule_type"],
        fields["timezone"],
    )
    assert (created.template_name, created.template_job_type) == ("hello", "shell")
    assert created.description
    fetched = await b.get_schedule("s1")
    assert fetched == await b.get_schedule(created.id)
    assert fetched.next_run == created.next_run
    assert [s.job_identifier for s in await b.list_schedules(template="hello")] == ["s1"]


async def test_schedule_zone_defaults_and_names_are_unique(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    spec = ScheduleSpec(job_identifier="s", template="hello", schedule_type="hourly", minute=0)
    assert (await b.create_schedule(spec)).timezone == "UTC"
    with pytest.raises(Conflict, match="'s' already exists"):
        await b.create_schedule(spec)


async def test_disable_clears_next_run_and_enable_restores_it(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    created = await b.create_schedule(weekly_cron("w"))
    disabled = await b.set_schedule_active("w", False)
    assert (disabled.is_active, disabled.next_run) == (False, None)
    assert [s.job_identifier for s in await b.list_schedules(is_active=False)] == ["w"]
    assert await b.list_schedules(is_active=True) == []
    enabled = await b.set_schedule_active("w", True)
    assert (enabled.is_active, enabled.next_run) == (True, created.next_run)
    paused = await b.create_schedule(weekly_cron("paused", is_active=False))
    assert paused.next_run is None


async def test_update_schedule_replaces_timing(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell(parameters=(ParameterSpec(name="n", type="int", default=1),)))
    await b.create_template(shell("other"))
    await b.create_schedule(weekly_cron("w", job_parameters={"n": "5"}))
    assert (await b.get_schedule("w")).job_parameters == {"n": 5}
    updated = await b.update_schedule(
        "w", SchedulePatch(schedule_type="daily", time_of_day="7:05", job_identifier="d")
    )
    assert (updated.job_identifier, updated.cron_expression) == ("d", None)
    assert (updated.time_of_day, updated.next_run) == (
        "07:05",
        datetime(2026, 3, 3, 7, 5, tzinfo=UTC),
    )
    await b.create_schedule(weekly_cron("w2"))
    with pytest.raises(Conflict, match="'w2' already exists"):
        await b.update_schedule("d", SchedulePatch(job_identifier="w2"))
    with pytest.raises(ValidationFailed) as caught:
        await b.update_schedule("d", SchedulePatch(template="other"))
    assert caught.value.field == "job_parameters.n"
    moved = await b.update_schedule("d", SchedulePatch(template="other", job_parameters={}))
    assert (moved.template_name, moved.job_parameters) == ("other", {})


async def test_preview_stored_and_unsaved_timing(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    await b.create_schedule(weekly_cron("w"))
    mondays = [datetime(2026, 3, day, 9, 0, tzinfo=UTC) for day in (9, 16, 23)]
    assert [f.utc for f in await b.preview_schedule("w", 3)] == mondays
    viewed = await b.preview_schedule("w", 1, viewer_zone="Asia/Tokyo")
    assert viewed[0].viewer is not None and viewed[0].viewer.hour == 18
    spec = ScheduleSpec(
        job_identifier="draft",
        template="hello",
        schedule_type="daily",
        time_of_day="02:30",
        timezone="America/New_York",
    )
    fires = await b.preview_timing(spec, 7)
    assert [f.dst for f in fires] == [None] * 5 + ["gap", None]  # 2026-03-08: 02:30 is skipped
    assert await b.list_schedules() != [] and len(await b.list_schedules()) == 1
    with pytest.raises(ValidationFailed) as caught:
        await b.preview_schedule("w", 0)
    assert caught.value.field == "n"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (
            {"schedule_type": "cron", "cron_expression": "0 0 30 2 *"},
            "cron_expression.day_of_month",
        ),
        ({"schedule_type": "cron", "cron_expression": "61 * * * *"}, "cron_expression.minute"),
        ({"schedule_type": "cron"}, "cron_expression"),
        ({"schedule_type": "interval", "interval_seconds": 0}, "interval_seconds"),
        ({"schedule_type": "hourly", "minute": 60}, "minute"),
        ({"schedule_type": "daily", "time_of_day": "25:00"}, "time_of_day"),
        ({"schedule_type": "weekly", "weekday": 7, "time_of_day": "09:00"}, "weekday"),
        ({"schedule_type": "monthly", "day_of_month": 32, "time_of_day": "09:00"}, "day_of_month"),
        (
            {"schedule_type": "hourly", "minute": 5, "cron_expression": "* * * * *"},
            "cron_expression",
        ),
        ({"schedule_type": "hourly", "minute": 5, "timezone": "Mars/Olympus"}, "timezone"),
        (
            {"schedule_type": "hourly", "minute": 5, "start_at": NOW, "end_at": NOW - timedelta(1)},
            "end_at",
        ),
        ({"schedule_type": "hourly", "minute": 5, "jitter": "random"}, "jitter_seconds"),
        ({"schedule_type": "hourly", "minute": 5, "catchup_cap": 0}, "catchup_cap"),
        ({"schedule_type": "hourly", "minute": 5, "job_parameters": {"x": 1}}, "job_parameters.x"),
        ({"schedule_type": "hourly", "minute": 5, "job_identifier": ""}, "job_identifier"),
    ],
)
async def test_bad_schedule_is_rejected_naming_the_field(
    harness: Harness, fields: dict[str, Any], field: str
) -> None:
    b = harness.backend
    await b.create_template(shell())
    spec = ScheduleSpec(**{"job_identifier": "s", "template": "hello", "timezone": "UTC", **fields})
    with pytest.raises(ValidationFailed) as caught:
        await b.create_schedule(spec)
    assert caught.value.field == field
    assert await b.list_schedules() == []


async def test_delete_schedule_keeps_its_runs(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(shell())
    schedule = await b.create_schedule(weekly_cron("w"))
    run_id = harness.add_run(template=template, schedule=schedule, scheduled_for=NOW)
    assert (await b.get_schedule("w")).last_run_status == "completed"
    report = await b.delete_schedule("w")
    assert (report.kind, report.name, report.removed_schedules) == ("schedule", "w", ())
    with pytest.raises(NotFound):
        await b.get_schedule(schedule.id)
    run = await b.get_run(run_id)
    assert (run.job_schedule_id, run.schedule_name, run.template_name) == (None, None, "hello")


# runs ----------------------------------------------------------------------------------------


#: label -> (template, scheduled?, status, trigger, age, seconds it ran (None: not finished))
RUNS: dict[str, tuple[str, bool, str, str, timedelta, float | None]] = {
    "old_ok": ("alpha", True, "completed", "schedule", timedelta(days=10), 60),
    "old_failed": ("alpha", False, "failed", "manual", timedelta(days=9), 5),
    "old_cancelled": ("alpha", False, "cancelled", "manual", timedelta(days=8), 2),
    "api_ok": ("beta", False, "completed", "api", timedelta(days=3), 0.5),
    "api_twin": ("beta", False, "completed", "api", timedelta(days=3), 0.5),  # same queued_at
    "timed_out": ("beta", False, "timed_out", "retry", timedelta(days=2), 900),
    "running": ("alpha", True, "running", "schedule", timedelta(hours=1), None),
    "pending": ("alpha", False, "pending", "manual", timedelta(minutes=5), None),
    "stuck": ("alpha", True, "running", "schedule", timedelta(days=20), None),
}
NEWEST_FIRST = [
    "pending",
    "running",
    "timed_out",
    "api_twin",
    "api_ok",
    "old_cancelled",
    "old_failed",
    "old_ok",
    "stuck",
]


async def seed_runs(h: Harness) -> dict[str, int]:
    """Templates alpha (shell, scheduled) and beta (http), and the RUNS; returns ids by label."""
    templates = {
        "alpha": await h.backend.create_template(shell("alpha")),
        "beta": await h.backend.create_template(
            TemplateSpec(name="beta", job_type="http", config={"url": "https://example.com/"})
        ),
    }
    schedule = await h.backend.create_schedule(weekly_cron("alpha-weekly", "alpha"))
    run_ids = {}
    for label, (template, scheduled, status, trigger, age, seconds) in RUNS.items():
        queued = NOW - age
        fields: dict[str, Any] = {"status": status, "triggered_by": trigger, "queued_at": queued}
        if scheduled:
            fields["scheduled_for"] = queued
        if status != "pending":
            fields["started_at"] = queued + timedelta(seconds=1)
        if seconds is not None:
            fields["completed_at"] = fields["started_at"] + timedelta(seconds=seconds)
        if status == "failed":
            fields["error_message"] = "boom"
        run_schedule = schedule if scheduled else None
        run_ids[label] = h.add_run(templates[template], run_schedule, **fields)
    return run_ids


def ids(runs: tuple[RunView, ...] | list[RunView]) -> list[int]:
    """The run ids, in order."""
    return [run.id for run in runs]


async def test_runs_listing_newest_first_with_names(harness: Harness) -> None:
    runs = await seed_runs(harness)
    page = await harness.backend.list_runs(RunQuery())
    assert (page.total, page.next_cursor) == (9, None)
    assert ids(page.items) == [runs[label] for label in NEWEST_FIRST]
    running = await harness.backend.get_run(runs["running"])
    assert (running.schedule_name, running.template_name, running.job_type) == (
        "alpha-weekly",
        "alpha",
        "shell",
    )
    old = await harness.backend.get_run(runs["old_ok"])
    assert (old.duration_seconds, old.status, old.triggered_by) == (60, "completed", "schedule")
    assert old.scheduled_for == NOW - timedelta(days=10)


RECENT = {"api_ok", "api_twin", "timed_out", "running", "pending"}


@pytest.mark.parametrize(
    ("query", "labels"),
    [
        (RunQuery(status=("running", "pending")), {"running", "pending", "stuck"}),
        (RunQuery(job_type=("http",)), {"api_ok", "api_twin", "timed_out"}),
        (RunQuery(triggered_by=("api", "retry")), {"api_ok", "api_twin", "timed_out"}),
        (RunQuery(since=NOW - timedelta(days=3)), RECENT),
        (RunQuery(until=NOW - timedelta(days=9)), {"old_ok", "old_failed", "stuck"}),
        (RunQuery(search="ETA"), {"api_ok", "api_twin", "timed_out"}),
        (RunQuery(status=("failed",), job_type=("http",)), set()),
    ],
)
async def test_runs_filters(harness: Harness, query: RunQuery, labels: set[str]) -> None:
    runs = await seed_runs(harness)
    page = await harness.backend.list_runs(query)
    assert set(ids(page.items)) == {runs[label] for label in labels}
    assert page.total == len(labels)


async def test_runs_filter_by_template_and_schedule(harness: Harness) -> None:
    runs = await seed_runs(harness)
    b = harness.backend
    beta = await b.get_template("beta")
    sched = await b.get_schedule("alpha-weekly")
    by_template = await b.list_runs(RunQuery(template_id=(beta.id,)))
    assert set(ids(by_template.items)) == {runs["api_ok"], runs["api_twin"], runs["timed_out"]}
    by_schedule = await b.list_runs(RunQuery(schedule_id=(sched.id,)))
    assert set(ids(by_schedule.items)) == {runs["old_ok"], runs["running"], runs["stuck"]}


SORT_KEYS = ["queued_at", "started_at", "completed_at", "duration_seconds", "job_name", "id"]
_LOWEST: dict[str, Any] = {"started_at": datetime.min.replace(tzinfo=UTC), "duration_seconds": -1}
_LOWEST["completed_at"] = _LOWEST["started_at"]


@pytest.mark.parametrize("sort", SORT_KEYS)
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
async def test_keyset_pages_cover_everything_once(
    harness: Harness, sort: Any, descending: bool
) -> None:
    await seed_runs(harness)
    b = harness.backend
    whole = await b.list_runs(RunQuery(sort=sort, descending=descending, limit=100))
    paged: list[int] = []
    cursor = None
    for _ in range(10):
        page = await b.list_runs(RunQuery(sort=sort, descending=descending, limit=2, cursor=cursor))
        assert page.total == 9
        paged += ids(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == ids(whole.items)
    assert len(set(paged)) == 9
    keys = [
        (_LOWEST.get(sort) if getattr(run, sort) is None else getattr(run, sort), run.id)
        for run in whole.items
    ]
    assert keys == sorted(keys, reverse=descending)  # nulls sort lowest, ties break by id


async def test_bad_run_queries_name_the_field(harness: Harness) -> None:
    b = harness.backend
    await seed_runs(harness)
    first = await b.list_runs(RunQuery(limit=2))
    assert first.next_cursor
    bad = [
        (RunQuery(status=("done",)), "status"),
        (RunQuery(triggered_by=("cron",)), "triggered_by"),
        (RunQuery(since=NOW, until=NOW - timedelta(hours=1)), "until"),
        (RunQuery(cursor="not-a-cursor"), "cursor"),
        (RunQuery(cursor=first.next_cursor, sort="job_name"), "cursor"),
    ]
    for query, field in bad:
        with pytest.raises(ValidationFailed) as caught:
            await b.list_runs(query)
        assert caught.value.field == field


async def test_run_counts_cover_every_status(harness: Harness) -> None:
    await seed_runs(harness)
    counts = await harness.backend.run_counts()
    assert list(counts) == list(RUN_STATUSES)
    assert counts == {
        "pending": 1,
        "running": 2,
        "completed": 3,
        "failed": 1,
        "cancelled": 1,
        "timed_out": 1,
        "lost": 0,
    }
    http = await harness.backend.run_counts(RunQuery(job_type=("http",)))
    assert (http["completed"], http["timed_out"], http["running"]) == (2, 1, 0)


async def test_delete_run_refuses_active_runs(harness: Harness) -> None:
    runs = await seed_runs(harness)
    b = harness.backend
    for label in ("running", "pending"):
        with pytest.raises(Conflict, match="cancel it first"):
            await b.delete_run(runs[label])
    await b.delete_run(runs["old_failed"])
    with pytest.raises(NotFound):
        await b.get_run(runs["old_failed"])
    assert (await b.list_runs(RunQuery())).total == 8


async def test_cleanup_deletes_only_old_finished_runs(harness: Harness) -> None:
    runs = await seed_runs(harness)
    b = harness.backend
    assert await b.cleanup_runs(7) == 3
    remaining = set(ids((await b.list_runs(RunQuery())).items))
    assert runs["stuck"] in remaining
    assert not remaining & {runs["old_ok"], runs["old_failed"], runs["old_cancelled"]}
    with pytest.raises(ValidationFailed) as caught:
        await b.cleanup_runs(0)
    assert caught.value.field == "days"


async def test_clear_never_touches_pending_or_running(harness: Harness) -> None:
    runs = await seed_runs(harness)
    b = harness.backend
    with pytest.raises(ValidationFailed) as caught:
        await b.clear_runs(RunFilter(status=("failed", "running")))
    assert caught.value.field == "status"
    assert await b.clear_runs(RunFilter(status=("failed",))) == 1
    beta = await b.get_template("beta")
    assert await b.clear_runs(RunFilter(template_id=(beta.id,), triggered_by=("api",))) == 2
    assert await b.clear_runs(RunFilter()) == 3
    left = set(ids((await b.list_runs(RunQuery())).items))
    assert left == {runs["running"], runs["pending"], runs["stuck"]}


# audit and read-only mode --------------------------------------------------------------------


async def test_every_write_is_audited(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    await b.update_template("hello", TemplatePatch(description="changed"))
    await b.copy_template("hello", "hello-2")
    await b.create_schedule(weekly_cron("w"))
    await b.set_schedule_active("w", False)
    await b.update_schedule("w", SchedulePatch(cron_expression="0 10 * * 1"))
    run_id = harness.add_run(template=await b.get_template("hello"), status="failed")
    await b.delete_run(run_id)
    await b.clear_runs(RunFilter())
    await b.delete_schedule("w")
    await b.delete_template("hello-2")
    records = await b.audit_log()
    assert [(r.action, r.target_name) for r in records] == [
        ("template.delete", "hello-2"),
        ("schedule.delete", "w"),
        ("run.clear", None),
        ("run.delete", "hello"),
        ("schedule.update", "w"),
        ("schedule.disable", "w"),
        ("schedule.create", "w"),
        ("template.create", "hello-2"),
        ("template.update", "hello"),
        ("template.create", "hello"),
    ]
    assert {(r.actor, r.source, r.at) for r in records} == {("tester", "test", NOW)}
    update = records[-2]
    assert update.before and update.after
    assert (update.before["description"], update.after["description"]) == (None, "changed")
    assert [r.action for r in await b.audit_log(limit=2)] == ["template.delete", "schedule.delete"]


async def test_read_only_refuses_every_write(harness: Harness) -> None:
    ro = harness.read_only
    assert ro.capabilities.writable is False
    assert harness.backend.capabilities.writable is True
    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: ro.create_template(shell()),
        lambda: ro.update_template("hello", TemplatePatch(description="x")),
        lambda: ro.delete_template("hello", force=True),
        lambda: ro.copy_template("hello", "other"),
        lambda: ro.create_schedule(weekly_cron("w")),
        lambda: ro.update_schedule("w", SchedulePatch(minute=3)),
        lambda: ro.delete_schedule("w"),
        lambda: ro.set_schedule_active("w", False),
        lambda: ro.delete_run(1),
        lambda: ro.cleanup_runs(30),
        lambda: ro.clear_runs(RunFilter()),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied, match="read-only"):
            await write()
    assert await ro.list_templates() == []
    assert await ro.audit_log() == []
    assert (await ro.list_runs(RunQuery())).total == 0


async def test_views_are_snapshots(harness: Harness) -> None:
    b = harness.backend
    created = await b.create_template(shell(tags=("a",)))
    created.config["command"].append("mutated")
    assert (await b.get_template("hello")).config["command"] == ["echo", "hello"]
    assert isinstance(await b.create_schedule(weekly_cron("w")), ScheduleView)
