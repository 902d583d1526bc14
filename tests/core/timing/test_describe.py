"""describe_schedule: every schedule type and the common cron shapes in words."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.backend.fake import FakeBackend
from core.backend.inputs import ScheduleSpec
from core.jobs.timing.wording import describe_cron, describe_interval, describe_schedule


def spec(zone: str | None = "UTC", **timing: Any) -> ScheduleSpec:
    """A schedule spec carrying only timing (the describer reads nothing else)."""
    return ScheduleSpec(job_identifier="s", template="t", timezone=zone, **timing)


def cron(expression: str, zone: str = "UTC") -> ScheduleSpec:
    """A cron schedule spec."""
    return spec(zone, schedule_type="cron", cron_expression=expression)


RIGA = "Europe/Riga"

CASES: list[tuple[ScheduleSpec, str]] = [
    # the fixed types, in their own zone
    (spec(schedule_type="interval", interval_seconds=10), "every 10 s"),
    (spec(schedule_type="interval", interval_seconds=1), "every second"),
    (spec(schedule_type="interval", interval_seconds=60), "every minute"),
    (spec(schedule_type="interval", interval_seconds=90), "every 1 min 30 s"),
    (spec(schedule_type="interval", interval_seconds=900), "every 15 min"),
    (spec(schedule_type="interval", interval_seconds=3600), "every hour"),
    (spec(schedule_type="interval", interval_seconds=5400), "every 1 h 30 min"),
    (spec(schedule_type="interval", interval_seconds=172800), "every 2 d"),
    (spec(schedule_type="hourly", minute=15), "every hour at :15 UTC"),
    (spec(schedule_type="hourly", minute=0, zone="Asia/Kolkata"), "every hour at :00 Asia/Kolkata"),
    (spec(RIGA, schedule_type="daily", time_of_day="03:00"), "daily at 03:00 Europe/Riga"),
    (spec(schedule_type="weekly", weekday=0, time_of_day="08:30"), "Mondays at 08:30 UTC"),
    (spec(schedule_type="weekly", weekday=6, time_of_day="23:59"), "Sundays at 23:59 UTC"),
    (
        spec(schedule_type="monthly", day_of_month=31, time_of_day="02:00"),
        "monthly on day 31 (or the last day) at 02:00 UTC",
    ),
    (
        spec(schedule_type="monthly", day_of_month=15, time_of_day="02:00"),
        "monthly on day 15 at 02:00 UTC",
    ),
    (
        spec(schedule_type="once", run_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        "once at 2026-03-02 09:30 UTC",
    ),
    (
        spec(RIGA, schedule_type="once", run_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        "once at 2026-03-02 11:30 Europe/Riga",
    ),
    # cron: frequencies (zone-free when every day) and fixed times (always with the zone)
    (cron("* * * * *"), "every minute"),
    (cron("*/5 * * * *", RIGA), "every 5 minutes"),
    (cron("0,30 * * * *"), "every 30 minutes"),
    (cron("15 * * * *"), "every hour at :15 UTC"),
    (cron("0 */6 * * *"), "every 6 hours at :00 UTC"),
    (cron("0 9-17 * * 1-5"), "every hour from 09:00 to 17:00 on weekdays UTC"),
    (cron("*/15 9-17 * * mon-fri"), "every 15 minutes from 09:00 to 17:45 on weekdays UTC"),
    (cron("*/10 * * * 1-5"), "every 10 minutes on weekdays UTC"),
    (cron("0 9 * * 1-5", RIGA), "weekdays at 09:00 Europe/Riga"),
    (cron("0 9 * * MON-FRI", RIGA), "weekdays at 09:00 Europe/Riga"),
    (cron("30 8 * * 0,6"), "weekends at 08:30 UTC"),
    (cron("30 8 * * 6,7"), "weekends at 08:30 UTC"),
    (cron("0 9 * * 1"), "Mondays at 09:00 UTC"),
    (cron("0 9 * * 7"), "Sundays at 09:00 UTC"),
    (cron("0 9 * * 1,4"), "Mondays and Thursdays at 09:00 UTC"),
    (cron("0 9 * * 5,1,3"), "Mondays, Wednesdays and Fridays at 09:00 UTC"),
    (cron("0 9 * * 0-6"), "daily at 09:00 UTC"),
    (cron("30 6 * * *", "Asia/Tokyo"), "daily at 06:30 Asia/Tokyo"),
    (cron("0 0,12 * * *"), "daily at 00:00 and 12:00 UTC"),
    (cron("0 9 1 * *"), "monthly on day 1 at 09:00 UTC"),
    (cron("0 2 31 * *"), "monthly on day 31 (skipped in shorter months) at 02:00 UTC"),
    (cron("0 * 1 * *"), "every hour at :00 on day 1 of the month UTC"),
    (cron("0 0 29 2 *"), "yearly on Feb 29 at 00:00 UTC"),
    # macros
    (cron("@hourly"), "every hour at :00 UTC"),
    (cron("@daily", RIGA), "daily at 00:00 Europe/Riga"),
    (cron("@midnight"), "daily at 00:00 UTC"),
    (cron("@weekly"), "Sundays at 00:00 UTC"),
    (cron("@monthly"), "monthly on day 1 at 00:00 UTC"),
    (cron("@yearly"), "yearly on Jan 1 at 00:00 UTC"),
    (cron("@annually"), "yearly on Jan 1 at 00:00 UTC"),
    # uncommon shapes stay verbatim (whitespace tidied), still with their zone
    (cron("7 3 1-7 * 1"), "cron 7 3 1-7 * 1 UTC"),
    (cron("0 9 13 * 5"), "cron 0 9 13 * 5 UTC"),
    (cron("*/7 * * * *"), "cron */7 * * * * UTC"),
    (cron("0 9 * 6 *"), "cron 0 9 * 6 * UTC"),
    (cron("0 1,3,5,7,9 * * *"), "cron 0 1,3,5,7,9 * * * UTC"),
    (cron("0  9 *  * 1-5 ", RIGA), "weekdays at 09:00 Europe/Riga"),
]


@pytest.mark.parametrize(("timing", "text"), CASES, ids=[text for _, text in CASES])
def test_describe_schedule(timing: ScheduleSpec, text: str) -> None:
    assert describe_schedule(timing) == text


def test_the_table_is_large() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("*/5 * * * *", "every 5 minutes"),
        ("0 9 * * 1-5", "weekdays at 09:00"),
        ("@daily", "daily at 00:00"),
        ("7 3 1-7 * 1", "cron 7 3 1-7 * 1"),
        ("0 9 * * 8", "cron 0 9 * * 8"),  # invalid: shown as typed, never an exception
        ("CRON_TZ=UTC 0 9 * * *", "cron CRON_TZ=UTC 0 9 * * *"),
        ("", "cron "),
    ],
)
def test_describe_cron_alone_has_no_zone(expression: str, text: str) -> None:
    assert describe_cron(expression) == text


def test_incomplete_or_unknown_timing_never_raises() -> None:
    unfinished = ScheduleSpec.model_construct(
        job_identifier="s", template="t", schedule_type="weekly", timezone=RIGA, weekday=None
    )
    assert describe_schedule(unfinished) == "weekly (incomplete)"
    no_zone = spec(None, schedule_type="daily", time_of_day="09:00")
    assert describe_schedule(no_zone) == "daily at 09:00"
    bad_zone = spec(schedule_type="once", run_at=datetime(2026, 1, 1, tzinfo=UTC))
    bad_zone = bad_zone.model_copy(update={"timezone": "Mars/Olympus"})
    assert describe_schedule(bad_zone) == "once at 2026-01-01 00:00 Mars/Olympus"


def test_describe_interval_units() -> None:
    assert describe_interval(86400 + 3600 + 61) == "every 1 d 1 h 1 min 1 s"


async def test_describes_every_seeded_schedule_view() -> None:
    views = {v.job_identifier: v for v in await FakeBackend.seeded().list_schedules()}
    texts = {name: describe_schedule(view) for name, view in views.items()}
    assert texts["nightly-backup"] == "daily at 02:30 Europe/Riga"
    assert texts["monday-report"] == "Mondays at 08:00 America/New_York"
    assert texts["crm-delta"] == "every 15 min"
    assert texts["tmp-sweep"] == "every 30 minutes"
    assert texts["crm-full-once"] == "once at 2026-03-04 12:30 UTC"


def test_the_package_describe_function_is_not_shadowed() -> None:
    import core.jobs.timing
    from core.jobs.timing import wording

    assert callable(core.jobs.timing.describe)
    assert wording.describe_schedule is describe_schedule
