"""Contract: run listing (filters, sort, keyset cursor), counts, delete, cleanup, clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.backend.inputs import (
    RunFilter,
    RunQuery,
    TemplateSpec,
)
from core.backend.views import RUN_STATUSES, RunView
from core.errors import Conflict, NotFound, ValidationFailed

from .harness import NOW, Harness, shell, weekly_cron

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
        (RunQuery(until=NOW - timedelta(days=9)), {"old_ok", "stuck"}),  # until is exclusive
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
    uncounted = await b.list_runs(
        RunQuery(sort=sort, descending=descending, limit=2, with_total=False)
    )
    assert uncounted.total is None
    assert ids(uncounted.items) == ids(whole.items)[:2]
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
