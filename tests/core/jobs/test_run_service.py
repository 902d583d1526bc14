"""Run service: filters, sorting, keyset pages, counts, deletes and clean-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.backend.inputs import RunFilter, RunQuery, ScheduleSpec, TemplateSpec
from core.backend.views import RUN_STATUSES
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.runs import QUICK_PAGE_ROWS, RunService, quick_page
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.storage.database import Database
from core.storage.tables import AuditRecord, JobRun

BASE = datetime(2026, 3, 1, tzinfo=UTC)
STATUSES = ("completed", "failed", "running", "pending", "cancelled", "timed_out", "lost")


@pytest.fixture
def seeded(database: Database, templates: TemplateService, schedules: ScheduleService) -> list[int]:
    """70 runs: statuses cycle, two templates, one schedule, one per minute from BASE."""
    a = templates.create(TemplateSpec(name="alpha", job_type="shell", config={"command": "true"}))
    b = templates.create(
        TemplateSpec(name="beta", job_type="http", config={"url": "http://x.test"})
    )
    sched = schedules.create(
        ScheduleSpec(
            job_identifier="alpha-hourly", template="alpha", schedule_type="hourly", minute=0
        )
    )
    ids = []
    with database.write() as session:
        for i in range(70):
            template = a if i % 2 == 0 else b
            run = JobRun(
                job_template_id=template.id,
                job_schedule_id=sched.id if i % 2 == 0 else None,
                job_name=template.name,
                job_type=template.job_type,
                status=STATUSES[i % 7],
                triggered_by="schedule" if i % 2 == 0 else "manual",
                scheduled_for=BASE + timedelta(minutes=i) if i % 2 == 0 else None,
                queued_at=BASE + timedelta(minutes=i // 2),  # pairs share queued_at: ties on id
                started_at=BASE + timedelta(minutes=i // 2, seconds=1) if i % 3 else None,
                duration_seconds=float(i % 10) if i % 3 else None,
            )
            session.add(run)
            session.flush()
            ids.append(run.id)
    return ids


def all_pages(runs: RunService, query: RunQuery) -> list[int]:
    """Follow cursors to the end; ids in order."""
    seen: list[int] = []
    page = runs.page(query)
    while True:
        seen.extend(r.id for r in page.items)
        if page.next_cursor is None:
            return seen
        page = runs.page(query.model_copy(update={"cursor": page.next_cursor}))


def test_newest_first_with_keyset_pages(runs: RunService, seeded: list[int]) -> None:
    first = runs.page(RunQuery(limit=10))
    assert first.total == 70
    assert [r.id for r in first.items] == sorted(seeded, reverse=True)[:10]
    assert all_pages(runs, RunQuery(limit=7)) == sorted(seeded, reverse=True)
    assert first.items[0].template_name in {"alpha", "beta"}


@pytest.mark.parametrize("key", ["queued_at", "started_at", "duration_seconds", "job_name", "id"])
@pytest.mark.parametrize("descending", [True, False])
def test_every_sort_key_pages_without_gaps_or_repeats(
    runs: RunService, seeded: list[int], key: str, descending: bool
) -> None:
    ids = all_pages(runs, RunQuery(limit=9, sort=key, descending=descending))  # type: ignore[arg-type]
    assert sorted(ids) == sorted(seeded)
    assert len(set(ids)) == 70


def test_filters(runs: RunService, seeded: list[int]) -> None:
    failed = runs.page(RunQuery(status=("failed",), limit=100))
    assert failed.total == 10 and {r.status for r in failed.items} == {"failed"}
    two = runs.page(RunQuery(status=("failed", "lost"), limit=100))
    assert two.total == 20
    assert runs.page(RunQuery(job_type=("http",))).total == 35
    assert runs.page(RunQuery(triggered_by=("schedule",))).total == 35
    alpha = runs.page(RunQuery(search="alp"))
    assert alpha.total == 35 and alpha.items[0].schedule_name == "alpha-hourly"
    window = runs.page(
        RunQuery(since=BASE + timedelta(minutes=10), until=BASE + timedelta(minutes=20))
    )
    assert window.total == 20
    template_id = alpha.items[0].job_template_id
    assert template_id is not None
    assert runs.page(RunQuery(template_id=(template_id,))).total == 35
    schedule_id = alpha.items[0].job_schedule_id
    assert schedule_id is not None
    assert runs.page(RunQuery(schedule_id=(schedule_id,))).total == 35


def test_counts(runs: RunService, seeded: list[int]) -> None:
    counts = runs.counts()
    assert set(counts) == set(RUN_STATUSES)
    assert sum(counts.values()) == 70
    assert counts["failed"] == 10
    assert runs.counts(RunQuery(job_type=("shell",)))["completed"] == 5


def test_delete_one(runs: RunService, seeded: list[int], database: Database) -> None:
    finished = runs.page(RunQuery(status=("completed",))).items[0]
    runs.delete(finished.id)
    with pytest.raises(NotFound):
        runs.get(finished.id)
    running = runs.page(RunQuery(status=("running",))).items[0]
    with pytest.raises(Conflict, match="cancel it first"):
        runs.delete(running.id)
    with database.read() as session:
        assert any(r.action == "run.delete" for r in session.exec(select(AuditRecord)))


def test_cleanup_and_clear_never_touch_active_runs(
    runs: RunService, seeded: list[int], clock: object
) -> None:
    # The clock is 2026-03-02 08:00; every run is from 2026-03-01, so older than 1 day.
    deleted = runs.cleanup(1)
    assert deleted == 50
    remaining = runs.counts()
    assert remaining["pending"] == remaining["running"] == 10
    assert sum(remaining.values()) == 20
    assert runs.clear(RunFilter()) == 0


def test_clear_by_filter(runs: RunService, seeded: list[int]) -> None:
    assert runs.clear(RunFilter(status=("failed",), job_type=("shell",))) == 5
    assert runs.counts()["failed"] == 5


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        (lambda r: r.page(RunQuery(status=("bogus",))), "status", "unknown status 'bogus'"),
        (lambda r: r.page(RunQuery(triggered_by=("cron",))), "triggered_by", "unknown trigger"),
        (lambda r: r.page(RunQuery(cursor="garbage!")), "cursor", "not a cursor"),
        (
            lambda r: r.page(RunQuery(since=BASE, until=BASE - timedelta(days=1))),
            "until",
            "ends before it starts",
        ),
        (lambda r: r.cleanup(0), "days", "outside"),
        (lambda r: r.clear(RunFilter(status=("running",))), "status", "never cleared"),
    ],
)
def test_bad_run_queries(runs: RunService, call: object, field: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        call(runs)  # type: ignore[operator]
    assert caught.value.field == field
    assert words in str(caught.value)


def test_cursor_from_another_sort_is_rejected(runs: RunService, seeded: list[int]) -> None:
    cursor = runs.page(RunQuery(limit=5)).next_cursor
    with pytest.raises(ValidationFailed, match="different sort"):
        runs.page(RunQuery(limit=5, sort="job_name", cursor=cursor))
    with pytest.raises(NotFound, match="run 999999"):
        runs.get(999999)


def test_a_repeated_page_reads_the_runs_again(
    runs: RunService, seeded: list[int], database: Database
) -> None:
    """The same query twice (its statement kept between the two) sees what changed between."""
    query = RunQuery(limit=5, with_total=False)
    first = runs.page(query)
    following = runs.page(query.model_copy(update={"cursor": first.next_cursor}))
    newest, next_one = first.items[0].id, following.items[0].id
    with database.write() as session:
        row = session.get(JobRun, newest)
        assert row is not None
        row.job_name = "renamed"
        session.delete(session.get(JobRun, next_one))

    again = runs.page(query)
    assert [r.id for r in again.items] == [r.id for r in first.items]
    assert again.items[0].job_name == "renamed"
    moved_on = runs.page(query.model_copy(update={"cursor": first.next_cursor}))
    assert next_one not in [r.id for r in moved_on.items]
    assert runs.page(query.model_copy(update={"with_total": True})).total == 69


def test_a_rejected_query_is_rejected_every_time(runs: RunService, seeded: list[int]) -> None:
    query = RunQuery(status=("bogus",), with_total=False)
    for _ in range(2):
        with pytest.raises(ValidationFailed, match="unknown status"):
            runs.page(query)


@pytest.mark.parametrize(
    ("query", "quick"),
    [
        (RunQuery(limit=100, with_total=False), True),
        (RunQuery(limit=100, with_total=False, sort="id", descending=False), True),
        (RunQuery(limit=100, with_total=False, cursor="after-some-run"), True),
        (RunQuery(limit=100), False),  # a total counts every run
        (RunQuery(limit=QUICK_PAGE_ROWS + 1, with_total=False), False),
        (RunQuery(limit=100, with_total=False, sort="job_name"), False),  # no index: a sort
        (RunQuery(limit=100, with_total=False, sort="started_at"), False),
        (RunQuery(limit=100, with_total=False, status=("failed",)), False),
        (RunQuery(limit=100, with_total=False, search="nightly"), False),
        (RunQuery(limit=100, with_total=False, since=BASE), False),
        (RunQuery(limit=100, with_total=False, schedule_id=(1,)), False),
    ],
)
def test_quick_pages_are_unfiltered_uncounted_indexed_and_small(
    query: RunQuery, quick: bool
) -> None:
    assert quick_page(query) is quick
