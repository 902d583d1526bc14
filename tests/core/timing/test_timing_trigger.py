"""JobdeckTrigger under APScheduler 3, and preview()."""

from __future__ import annotations

import pickle
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from core.jobs.timing import JobdeckTrigger, Timing, preview, preview_text


def utc(*args: int) -> datetime:
    """A UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def run_times(trigger: JobdeckTrigger, first: datetime, now: datetime) -> list[datetime]:
    """What apscheduler.job.Job._get_run_times does: every due fire from ``first`` up to ``now``."""
    found: list[datetime] = []
    upcoming: datetime | None = first
    while upcoming is not None and upcoming <= now:
        found.append(upcoming)
        upcoming = trigger.get_next_fire_time(upcoming, now)
    return found


def test_first_fire_is_at_or_after_now() -> None:
    trigger = JobdeckTrigger(
        Timing(schedule_type="cron", timezone="UTC", cron_expression="0 9 * * 1")
    )
    monday_nine = utc(2024, 1, 8, 9)
    assert trigger.get_next_fire_time(None, monday_nine) == monday_nine
    assert trigger.get_next_fire_time(None, monday_nine + timedelta(seconds=1)) == utc(
        2024, 1, 15, 9
    )
    assert trigger.get_next_fire_time(monday_nine, monday_nine) == utc(2024, 1, 15, 9)


def test_crontab_monday_is_monday_unlike_apscheduler_from_crontab() -> None:
    now = utc(2024, 1, 1, 12)  # a Monday
    ours = JobdeckTrigger(Timing(schedule_type="cron", timezone="UTC", cron_expression="0 9 * * 1"))
    theirs = CronTrigger.from_crontab("0 9 * * 1", timezone="UTC")
    assert ours.get_next_fire_time(None, now).strftime("%a") == "Mon"  # type: ignore[union-attr]
    # The trap SCHEDULING.md warns about, pinned so an upgrade that fixes it is noticed.
    assert theirs.get_next_fire_time(None, now).strftime("%a") == "Tue"


def test_missed_runs_enumerate_like_apscheduler_across_a_fold() -> None:
    trigger = JobdeckTrigger(Timing(schedule_type="hourly", timezone="Europe/Riga", minute=15))
    first = trigger.get_next_fire_time(None, utc(2024, 10, 26, 23, 30))
    now = datetime(2024, 10, 27, 4, 20, tzinfo=ZoneInfo("Europe/Riga"))  # the scheduler's zone
    assert run_times(trigger, first, now) == [  # type: ignore[arg-type]
        utc(2024, 10, 27, 0, 15),  # 03:15 EEST
        utc(2024, 10, 27, 1, 15),  # 03:15 EET, the same wall time again
        utc(2024, 10, 27, 2, 15),  # 04:15 EET
    ]


def test_fixed_time_fold_runs_once_under_apscheduler() -> None:
    trigger = JobdeckTrigger(
        Timing(schedule_type="daily", timezone="Europe/Riga", time_of_day="03:30")
    )
    first = trigger.get_next_fire_time(None, utc(2024, 10, 26, 12))
    assert run_times(trigger, first, utc(2024, 10, 28, 12)) == [  # type: ignore[arg-type]
        utc(2024, 10, 27, 0, 30),
        utc(2024, 10, 28, 1, 30),
    ]


def test_end_at_finishes_the_trigger() -> None:
    timing = Timing(
        schedule_type="interval",
        timezone="UTC",
        interval_seconds=60,
        anchor_at=utc(2024, 1, 1),
        end_at=utc(2024, 1, 1, 0, 2),
    )
    trigger = JobdeckTrigger(timing)
    assert trigger.get_next_fire_time(utc(2024, 1, 1, 0, 1), utc(2024, 1, 1, 0, 1)) == utc(
        2024, 1, 1, 0, 2
    )
    assert trigger.get_next_fire_time(utc(2024, 1, 1, 0, 2), utc(2024, 1, 1, 0, 2)) is None


def test_pickle_str_and_repr() -> None:
    trigger = JobdeckTrigger(
        Timing(schedule_type="weekly", timezone="Europe/Riga", weekday=2, time_of_day="07:00")
    )
    restored = pickle.loads(pickle.dumps(trigger))
    assert restored == trigger and restored.timing == trigger.timing
    assert str(trigger) == "jobdeck[on Wednesdays at 07:00 Europe/Riga]"
    assert repr(trigger).startswith("<JobdeckTrigger (on Wednesdays at 07:00 Europe/Riga)")


def test_background_scheduler_computes_next_run_time() -> None:
    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": False}
    )
    trigger = JobdeckTrigger(
        Timing(schedule_type="cron", timezone="Europe/Riga", cron_expression="0 9 * * 1")
    )
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(print, trigger=trigger, id="monday")
        local = job.next_run_time.astimezone(ZoneInfo("Europe/Riga"))
        assert (local.strftime("%a"), local.hour, local.minute) == ("Mon", 9, 0)
        assert job.next_run_time > datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=False)


def test_background_scheduler_runs_the_job() -> None:
    ran = threading.Event()
    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": False}
    )
    timing = Timing(
        schedule_type="interval", timezone="UTC", interval_seconds=1, anchor_at=utc(2024, 1, 1)
    )
    scheduler.add_job(ran.set, trigger=JobdeckTrigger(timing), id="tick")
    scheduler.start()
    try:
        assert ran.wait(timeout=10)
    finally:
        scheduler.shutdown(wait=False)


def test_preview_rows_in_schedule_and_viewer_zones() -> None:
    timing = Timing(schedule_type="daily", timezone="Europe/Riga", time_of_day="03:30")
    rows = preview(timing, 3, utc(2024, 3, 29, 12), viewer_zone="America/New_York")
    assert [row.utc for row in rows] == [
        utc(2024, 3, 30, 1, 30),
        utc(2024, 3, 31, 1),
        utc(2024, 4, 1, 0, 30),
    ]
    assert [row.dst for row in rows] == [None, "gap", None]
    assert [f"{row.viewer:%m-%d %H:%M %Z}" for row in rows] == [
        "03-29 21:30 EDT",
        "03-30 21:00 EDT",
        "03-31 20:30 EDT",
    ]
    assert rows[1].note == "03:30 does not exist on 2024-03-31 (DST gap); runs at 04:00"
    assert preview_text(rows)[1] == {
        "local": "2024-03-31 04:00 EEST",
        "viewer": "2024-03-30 21:00 EDT",
        "utc": "2024-03-31 01:00Z",
        "note": "03:30 does not exist on 2024-03-31 (DST gap); runs at 04:00",
    }


def test_preview_flags_folds_and_works_without_viewer() -> None:
    timing = Timing(schedule_type="hourly", timezone="Europe/Riga", minute=0)
    rows = preview(timing, 1000, utc(2024, 10, 26, 23, 30))
    assert len(rows) == 1000 and all(row.viewer is None for row in rows)
    assert [row.dst for row in rows[:3]] == ["fold", "fold", None]
    assert rows[0].note is not None and rows[0].note.endswith("this is the first")
    assert rows[1].note is not None and rows[1].note.endswith("this is the second")
