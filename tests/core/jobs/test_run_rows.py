"""The runs page's raw-row path gives exactly the views the ORM path gives, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import Field, ValidationError, field_validator
from sqlalchemy import text

from core.backend.inputs import RunQuery, ScheduleSpec, TemplateSpec
from core.backend.views import RunView
from core.jobs import run_rows
from core.jobs.parameters import MASK
from core.jobs.runs import RunService
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.storage.database import Database
from core.storage.tables import JobRun

QUEUED = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
#: Results of every JSON shape, including floats whose shortest repr has 17 digits.
RESULTS: list[Any] = [
    {"ok": True, "rows": [1, 2.5, None], "name": 'ünïcode "quoted" \n'},
    0.30000000000000004,
    42,
    -7.25,
    "a bare string",
    [1, "two", {"three": 3.0}],
    True,
    None,
    {},
    1e-07,
]


def _full_run(index: int, template_id: int, schedule_id: int, retry_of: int | None) -> JobRun:
    """A run with every column set, the view's and the ones it leaves out."""
    riga = timezone(timedelta(hours=2))
    return JobRun(
        job_template_id=template_id,
        job_schedule_id=schedule_id,
        retry_of_run_id=retry_of,
        celery_task_id=f"task-{index}",
        job_name=f"nightly 'backup' [{index}] \u2013 ü",
        job_type="shell",
        status="failed",
        triggered_by="schedule",
        scheduled_for=QUEUED + timedelta(minutes=index),
        # an aware non-UTC time is stored as UTC and must read back as UTC
        queued_at=(QUEUED + timedelta(minutes=index, microseconds=index)).astimezone(riga),
        started_at=QUEUED + timedelta(minutes=index, seconds=1),
        completed_at=QUEUED + timedelta(minutes=index, seconds=2, microseconds=999999),
        duration_seconds=0.1 + 0.2 + index,
        attempts=3,
        max_attempts=4,
        exit_code=-1,
        signal=9,
        worker="pool-1",
        host="host-ü",
        pid=4_000_000 + index,
        pgid=4242,
        parameters={
            "plain": "value",
            "count": index,
            "ratio": 1 / 3,
            "token": "enc:v1:gAAAAA-sealed",
            "nested": {"list": [1, 2.5, "x"], "none": None},
        },
        template_revision=7,
        template_snapshot={"wide": "x" * 100},
        result=RESULTS[index % len(RESULTS)],
        error_message="boom\nline two",
        log_size=2**31 - 1,
        executed_by="alice",
        heartbeat_at=QUEUED,
        deadline_at=QUEUED,
        cancel_requested=True,
        cancel_reason="stopped by alice",
        not_before=QUEUED,
        lateness_seconds=1 / 7,
        owner_id="owner-1",
    )


def _bare_run(index: int) -> JobRun:
    """A run with every nullable column None (and midnight, zero-microsecond times)."""
    return JobRun(
        job_name=f"bare-{index}",
        job_type="http",
        status="pending",
        triggered_by="manual",
        queued_at=datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=index),
        parameters={},
        result=None,
    )


@pytest.fixture
def stored_runs(
    database: Database, templates: TemplateService, schedules: ScheduleService
) -> list[int]:
    """Full runs (one per result shape, retry links included) and bare runs; their ids."""
    template = templates.create(
        TemplateSpec(name="backup ü", job_type="shell", config={"command": "true"})
    )
    schedule = schedules.create(
        ScheduleSpec(
            job_identifier="backup-hourly", template="backup ü", schedule_type="hourly", minute=0
        )
    )
    ids: list[int] = []
    with database.write() as session:
        for index in range(len(RESULTS)):
            run = _full_run(index, template.id, schedule.id, ids[-1] if ids else None)
            session.add(run)
            session.flush()
            assert run.id is not None
            ids.append(run.id)
        for index in range(3):
            bare = _bare_run(index)
            session.add(bare)
            session.flush()
            assert bare.id is not None
            ids.append(bare.id)
    return ids


def _orm_views(runs: RunService, ids: list[int]) -> dict[int, RunView]:
    """The views of the ORM path (session.get, then to_view), by id."""
    return {run_id: runs.get(run_id) for run_id in ids}


def test_page_views_equal_the_orm_views(runs: RunService, stored_runs: list[int]) -> None:
    expected = _orm_views(runs, stored_runs)
    page = runs.page(RunQuery(limit=100, sort="id", descending=False))

    assert [view.id for view in page.items] == sorted(stored_runs)
    for view in page.items:
        orm = expected[view.id]
        assert view == orm
        # same types too (1 == 1.0 == True would hide a wrong decoder), and same JSON bytes
        for name in RunView.model_fields:
            assert type(getattr(view, name)) is type(getattr(orm, name)), name
        assert view.model_dump_json() == orm.model_dump_json()
        assert view.model_fields_set == orm.model_fields_set
    full = page.items[0]
    assert full.schedule_name == "backup-hourly" and full.template_name == "backup ü"
    assert full.parameters["token"] == MASK and full.parameters["plain"] == "value"
    assert full.queued_at.tzinfo is UTC and full.queued_at == QUEUED
    assert full.completed_at == QUEUED + timedelta(seconds=2, microseconds=999999)
    assert page.items[1].retry_of_run_id == full.id


def test_every_result_shape_reads_back(runs: RunService, stored_runs: list[int]) -> None:
    page = runs.page(RunQuery(limit=100, sort="id", descending=False))
    results = [view.result for view in page.items[: len(RESULTS)]]
    assert results == RESULTS
    assert [type(r) for r in results] == [type(r) for r in RESULTS]


def test_views_are_frozen_and_copyable(runs: RunService, stored_runs: list[int]) -> None:
    view = runs.page(RunQuery(limit=1)).items[0]
    with pytest.raises(ValidationError):
        view.status = "running"  # type: ignore[misc]
    copied = view.model_copy(update={"status": "completed"})
    assert copied.status == "completed" and view.status != "completed"
    assert RunView.model_validate(view.model_dump()) == view


def test_a_stored_value_outside_the_view_is_refused_by_name(
    runs: RunService, stored_runs: list[int], database: Database
) -> None:
    with database.write() as session:
        session.execute(
            text("UPDATE job_runs SET status = 'exploded' WHERE id = :id"), {"id": stored_runs[0]}
        )
    with pytest.raises(ValidationError, match="status"):
        runs.page(RunQuery(limit=100))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, None),
        ("2026-03-01 09:30:15.123456", datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)),
        ("2026-03-01 09:30:15", datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)),
        ("2026-03-01T09:30:15.123+02:00", datetime(2026, 3, 1, 7, 30, 15, 123000, tzinfo=UTC)),
        # 26 characters like the stored form, but with an offset of its own
        ("2026-03-01T09:30:15.1+0200", datetime(2026, 3, 1, 7, 30, 15, 100000, tzinfo=UTC)),
        ("2026-03-01T09:30:15Z", datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        (datetime(2026, 3, 1, 9, 30), datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        (
            datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 3, 1, 14, 30, tzinfo=UTC),
        ),
    ],
)
def test_utc_datetime(stored: Any, expected: datetime | None) -> None:
    decoded = run_rows.utc_datetime(stored)
    assert decoded == expected
    if decoded is not None:
        assert decoded.utcoffset() == timedelta(0)


def test_utc_datetime_refuses_what_is_not_a_time() -> None:
    with pytest.raises(ValueError, match="Invalid isoformat"):
        run_rows.utc_datetime("not a time at all, 26 chars")


@pytest.mark.parametrize(
    "stored",
    ['{"a": [1, 2.5]}', "0.30000000000000004", '"text"', "null", " {} ", '{"a": 1}\n', "[]"],
)
def test_json_value_decodes_text_as_json_loads_does(stored: str) -> None:
    assert run_rows.json_value(stored) == json.loads(stored)


@pytest.mark.parametrize("decoded", [None, 42, 2.5, {"a": 1}, [1, 2]])
def test_json_value_passes_what_the_driver_decoded(decoded: Any) -> None:
    assert run_rows.json_value(decoded) is decoded


@pytest.mark.parametrize("stored", ['{"a": 1} trailing', "{", ""])
def test_json_value_refuses_what_json_loads_refuses(stored: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        run_rows.json_value(stored)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_page_columns_are_the_view_fields_in_order(dialect: str) -> None:
    statement = run_rows.page_rows(dialect).statement
    selected = [column.name for column in statement.selected_columns]
    assert selected == list(RunView.model_fields) == list(run_rows.NAMES)


def test_run_views_are_built_without_a_second_validation() -> None:
    # A validator or a constraint on RunView would be skipped by the constructed views:
    # adding one turns construction off (and this test red, to say the listing got slower).
    assert run_rows.constructible(RunView)

    class Checked(RunView):
        @field_validator("job_name")
        @classmethod
        def _strip(cls, value: str) -> str:
            return value.strip()

    class Bounded(RunView):
        attempts: int = Field(ge=0)

    assert not run_rows.constructible(Checked)
    assert not run_rows.constructible(Bounded)
