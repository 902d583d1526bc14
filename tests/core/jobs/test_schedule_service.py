"""Schedule service: every schedule type, next_run, preview, enable/disable, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from core.backend.inputs import SchedulePatch, ScheduleSpec, TemplateSpec
from core.clock import ManualClock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.parameters import ParameterSpec
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.storage.database import Database
from core.storage.tables import AuditRecord, JobSchedule


@pytest.fixture(autouse=True)
def _template(templates: TemplateService) -> None:
    templates.create(
        TemplateSpec(
            name="backup",
            job_type="shell",
            config={"command": "true"},
            parameters=(
                ParameterSpec(name="target", default="db1"),
                ParameterSpec(name="level", type="int", default=1),
            ),
        )
    )


def spec(name: str = "s", **timing: Any) -> ScheduleSpec:
    """A schedule spec on the `backup` template."""
    return ScheduleSpec(job_identifier=name, template="backup", **timing)


# Clock: Monday 2026-03-02 08:00 UTC = 10:00 in Europe/Riga (EET, +02:00).
NEXT_RUNS: list[tuple[dict[str, Any], datetime]] = [
    (
        {"schedule_type": "cron", "cron_expression": "0 9 * * 1", "timezone": "UTC"},
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    ),
    (
        {"schedule_type": "cron", "cron_expression": "0 9 * * 1"},  # Riga: next Monday 09:00 local
        datetime(2026, 3, 9, 7, 0, tzinfo=UTC),
    ),
    (
        {"schedule_type": "interval", "interval_seconds": 600},
        datetime(2026, 3, 2, 8, 10, tzinfo=UTC),
    ),
    (
        {"schedule_type": "once", "run_at": datetime(2026, 3, 5, 12, 0, tzinfo=UTC)},
        datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
    ),
    ({"schedule_type": "hourly", "minute": 15}, datetime(2026, 3, 2, 8, 15, tzinfo=UTC)),
    ({"schedule_type": "daily", "time_of_day": "09:30"}, datetime(2026, 3, 3, 7, 30, tzinfo=UTC)),
    (
        {"schedule_type": "weekly", "weekday": 2, "time_of_day": "06:00"},
        datetime(2026, 3, 4, 4, 0, tzinfo=UTC),
    ),
    (
        {"schedule_type": "monthly", "day_of_month": 31, "time_of_day": "23:00"},
        datetime(2026, 3, 31, 20, 0, tzinfo=UTC),
    ),  # EEST from 29 March: +03:00
]


@pytest.mark.parametrize(("timing", "expected"), NEXT_RUNS)
def test_next_run_for_every_type(
    schedules: ScheduleService, timing: dict[str, Any], expected: datetime
) -> None:
    created = schedules.create(spec(**timing))
    assert created.next_run == expected
    assert created.timezone == timing.get("timezone", "Europe/Riga")
    assert created.template_name == "backup"
    assert created.description


def test_policies_default_to_scheduling_md(schedules: ScheduleService) -> None:
    created = schedules.create(spec(schedule_type="hourly", minute=0))
    assert created.start_deadline_seconds == 300
    assert (created.catchup, created.catchup_cap, created.catchup_window_seconds) == (
        "latest",
        10,
        86400,
    )
    assert (created.overlap, created.jitter) == ("skip", "off")


def test_disable_enable_and_next_run(schedules: ScheduleService, clock: ManualClock) -> None:
    schedules.create(spec(schedule_type="daily", time_of_day="09:30"))
    assert schedules.set_active("s", False).next_run is None
    clock.advance(timedelta(days=2))
    enabled = schedules.set_active("s", True)
    assert enabled.is_active
    assert enabled.next_run == datetime(2026, 3, 5, 7, 30, tzinfo=UTC)
    assert (
        schedules.create(spec("off", schedule_type="hourly", minute=1, is_active=False)).next_run
        is None
    )


def test_update_timing_and_parameters(schedules: ScheduleService, database: Database) -> None:
    schedules.create(
        spec(schedule_type="daily", time_of_day="09:30", job_parameters={"level": "3"})
    )
    assert schedules.get("s").job_parameters == {"level": 3}
    moved = schedules.update("s", SchedulePatch(time_of_day="10:45"))
    assert moved.next_run == datetime(2026, 3, 2, 8, 45, tzinfo=UTC)
    switched = schedules.update(
        "s", SchedulePatch(schedule_type="cron", cron_expression="*/5 * * * *")
    )
    assert switched.schedule_type == "cron"
    assert switched.time_of_day is None
    assert switched.next_run == datetime(2026, 3, 2, 8, 5, tzinfo=UTC)
    renamed = schedules.update("s", SchedulePatch(job_identifier="five-minutes", timezone="UTC"))
    assert renamed.job_identifier == "five-minutes"
    with database.read() as session:
        updates = [r for r in session.exec(select(AuditRecord)) if r.action == "schedule.update"]
    assert len(updates) == 3
    assert updates[0].before and updates[0].before["time_of_day"] == "09:30"


def test_preview_stored_and_unsaved(schedules: ScheduleService) -> None:
    schedules.create(spec(schedule_type="cron", cron_expression="0 9 * * 1", timezone="UTC"))
    fires = schedules.preview("s", 3, viewer_zone="Asia/Tokyo")
    assert [f.utc.day for f in fires] == [2, 9, 16]
    assert all(f.utc.weekday() == 0 and f.utc.hour == 9 for f in fires)
    assert fires[0].viewer is not None and fires[0].viewer.hour == 18
    unsaved = schedules.preview_spec(
        ScheduleSpec(
            job_identifier="x",
            template="-",
            schedule_type="daily",
            time_of_day="03:30",
            timezone="Europe/Riga",
        ),
        40,
    )
    gap = [f for f in unsaved if f.dst == "gap"]
    assert len(gap) == 1  # 29 March 2026: 03:00 -> 04:00 in Riga
    assert gap[0].local.hour == 4 and gap[0].local.minute == 0


def test_delete_keeps_nothing_of_the_schedule(schedules: ScheduleService) -> None:
    schedules.create(spec(schedule_type="hourly", minute=0))
    assert schedules.delete("s").name == "s"
    with pytest.raises(NotFound):
        schedules.get("s")


BAD: list[tuple[dict[str, Any], str, str]] = [
    (
        {"schedule_type": "cron", "cron_expression": "0 0 30 2 *"},
        "cron_expression.day_of_month",
        "30",
    ),
    ({"schedule_type": "cron", "cron_expression": "*/0 * * * *"}, "cron_expression.minute", "0"),
    (
        {"schedule_type": "cron", "cron_expression": "CRON_TZ=UTC 0 9 * * *"},
        "cron_expression",
        "CRON_TZ",
    ),
    ({"schedule_type": "cron"}, "cron_expression", ""),
    ({"schedule_type": "interval", "interval_seconds": 0}, "interval_seconds", ""),
    ({"schedule_type": "hourly", "minute": 60}, "minute", "60"),
    ({"schedule_type": "daily", "time_of_day": "25:00"}, "time_of_day", "25:00"),
    ({"schedule_type": "daily"}, "time_of_day", ""),
    ({"schedule_type": "weekly", "weekday": 7, "time_of_day": "09:00"}, "weekday", "7"),
    (
        {"schedule_type": "monthly", "day_of_month": 32, "time_of_day": "09:00"},
        "day_of_month",
        "32",
    ),
    (
        {"schedule_type": "hourly", "minute": 5, "timezone": "Mars/Olympus"},
        "timezone",
        "Mars/Olympus",
    ),
    ({"schedule_type": "hourly", "minute": 5, "timezone": "../../etc/passwd"}, "timezone", ""),
    ({"schedule_type": "once", "run_at": datetime(2020, 1, 1, tzinfo=UTC)}, "run_at", "past"),
    (
        {
            "schedule_type": "hourly",
            "minute": 5,
            "start_at": datetime(2026, 5, 1, tzinfo=UTC),
            "end_at": datetime(2026, 4, 1, tzinfo=UTC),
        },
        "end_at",
        "",
    ),
    (
        {"schedule_type": "hourly", "minute": 5, "end_at": datetime(2026, 1, 1, tzinfo=UTC)},
        "end_at",
        "never",
    ),
    (
        {"schedule_type": "hourly", "minute": 5, "job_parameters": {"nope": 1}},
        "job_parameters.nope",
        "unknown parameter",
    ),
    (
        {"schedule_type": "hourly", "minute": 5, "job_parameters": {"level": "high"}},
        "job_parameters.level",
        "int",
    ),
    (
        {"schedule_type": "hourly", "minute": 5, "start_deadline_seconds": 0},
        "start_deadline_seconds",
        "greater than zero",
    ),
    ({"schedule_type": "hourly", "minute": 5, "catchup_cap": 0}, "catchup_cap", "1..1000"),
    ({"schedule_type": "hourly", "minute": 5, "jitter": "random"}, "jitter_seconds", "needs"),
    ({"schedule_type": "hourly", "minute": 5, "overlap_max": 0}, "overlap_max", "1..100"),
]


@pytest.mark.parametrize(("timing", "field", "words"), BAD)
def test_bad_schedule_names_the_field(
    schedules: ScheduleService, timing: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        schedules.create(spec(**timing))
    assert caught.value.field == field, str(caught.value)
    assert words in str(caught.value)
    assert schedules.list_schedules() == []


def test_unknown_template_and_duplicates(schedules: ScheduleService) -> None:
    with pytest.raises(NotFound, match="template 'ghost'"):
        schedules.create(
            ScheduleSpec(job_identifier="s", template="ghost", schedule_type="hourly", minute=0)
        )
    schedules.create(spec(schedule_type="hourly", minute=0))
    with pytest.raises(Conflict, match="'s' already exists"):
        schedules.create(spec(schedule_type="hourly", minute=0))
    with pytest.raises(ValidationFailed, match="n: 0 is outside"):
        schedules.preview("s", 0)


def test_secret_overrides_are_sealed_and_masked(
    templates: TemplateService, schedules: ScheduleService, database: Database
) -> None:
    templates.create(
        TemplateSpec(
            name="deploy",
            job_type="shell",
            config={"command": "true"},
            parameters=(ParameterSpec(name="token", type="secret", required=True),),
        )
    )
    created = schedules.create(
        ScheduleSpec(
            job_identifier="d",
            template="deploy",
            schedule_type="hourly",
            minute=0,
            job_parameters={"token": "override-secret"},
        )
    )
    assert created.job_parameters == {"token": "********"}
    # Sending the masked value back keeps the stored secret.
    schedules.update("d", SchedulePatch(job_parameters={"token": "********"}, minute=5))
    with database.read() as session:
        stored = session.exec(select(JobSchedule)).one().job_parameters["token"]
        audit = " ".join(str(r.before) + str(r.after) for r in session.exec(select(AuditRecord)))
    assert stored.startswith("enc:v1:")
    assert "override-secret" not in audit


def test_once_in_the_past_is_refused_even_disabled(schedules: ScheduleService) -> None:
    with pytest.raises(ValidationFailed, match=r"run_at: .* is in the past"):
        schedules.create(
            spec(schedule_type="once", run_at=datetime(2026, 3, 1, tzinfo=UTC), is_active=False)
        )


def test_an_edit_that_keeps_the_timing_keeps_a_due_next_run(
    schedules: ScheduleService, clock: ManualClock
) -> None:
    # No owner runs: 08:15, 09:15 and 10:15 fall due. Edits that do not move the fire times
    # must leave next_run where it is, so the owner records them when it starts.
    created = schedules.create(spec(schedule_type="hourly", minute=15))
    first = created.next_run
    assert first == datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    clock.advance(timedelta(hours=3))
    for patch in (
        SchedulePatch(job_parameters={"level": "4"}),
        SchedulePatch(catchup="all", catchup_cap=5, overlap="allow", overlap_max=3),
        SchedulePatch(start_deadline_seconds=60, jitter="hash", jitter_seconds=5),
        SchedulePatch(minute=15),  # the same timing, given again
        SchedulePatch(is_active=True),  # already active
        SchedulePatch(job_identifier="renamed"),
    ):
        assert schedules.update(created.id, patch).next_run == first
    assert schedules.get("renamed").job_parameters == {"level": 4}
    # Timing, zone and window edits move the fire times: next_run is recomputed from now.
    assert schedules.update("renamed", SchedulePatch(minute=20)).next_run == datetime(
        2026, 3, 2, 11, 20, tzinfo=UTC
    )
    clock.advance(timedelta(hours=1))
    assert schedules.update("renamed", SchedulePatch(timezone="Asia/Kolkata")).next_run == (
        datetime(2026, 3, 2, 12, 50, tzinfo=UTC)  # 18:20 IST
    )
    clock.advance(timedelta(hours=1))
    windowed = schedules.update("renamed", SchedulePatch(start_at=datetime(2026, 3, 3, tzinfo=UTC)))
    assert windowed.next_run == datetime(2026, 3, 3, 0, 50, tzinfo=UTC)


def test_a_disabled_schedule_gets_a_next_run_only_when_enabled(
    schedules: ScheduleService, clock: ManualClock
) -> None:
    schedules.create(spec(schedule_type="hourly", minute=15, is_active=False))
    assert schedules.update("s", SchedulePatch(job_parameters={"level": "2"})).next_run is None
    assert schedules.update("s", SchedulePatch(minute=30)).next_run is None
    enabled = schedules.update("s", SchedulePatch(is_active=True))
    assert enabled.next_run == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def test_enabling_keeps_paused_at_until_the_owner_records_what_was_missed(
    schedules: ScheduleService, clock: ManualClock
) -> None:
    schedules.create(spec(schedule_type="hourly", minute=15))
    paused_at = clock.now()
    assert schedules.set_active("s", False).paused_at == paused_at
    clock.advance(timedelta(hours=2))
    enabled = schedules.set_active("s", True)
    assert (enabled.is_active, enabled.paused_at) == (True, paused_at)
    assert enabled.next_run == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    # Disabled again before any owner recorded the first pause: its start is kept.
    clock.advance(timedelta(hours=1))
    assert schedules.update("s", SchedulePatch(is_active=False)).paused_at == paused_at
    clock.advance(timedelta(hours=1))
    again = schedules.update("s", SchedulePatch(is_active=True, minute=45))
    assert (again.paused_at, again.next_run) == (
        paused_at,
        datetime(2026, 3, 2, 12, 45, tzinfo=UTC),
    )
