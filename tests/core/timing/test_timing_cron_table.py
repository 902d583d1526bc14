"""jobdeck's crontab engine against croniter (an independent implementation), in UTC."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.jobs.timing import Timing, next_fire_times, parse_cron

# Expressions on which croniter and Vixie cron agree. Rows where croniter deviates from Vixie
# are not here; they are pinned by hand in VIXIE_ONLY below (see the comments there).
TABLE = [
    "* * * * *",
    "*/5 * * * *",
    "*/7 * * * *",
    "0 * * * *",
    "30 * * * *",
    "0,15,30,45 * * * *",
    "5-10 * * * *",
    "5-50/15 * * * *",
    "10/20 * * * *",
    "0,30 0-5,18-23 * * *",
    "*/30 */6 * * *",
    "0 */2 * * *",
    "0 0-23/3 * * *",
    "15 3/4 * * *",
    "23 0-20/2 * * *",
    "0 0 * * *",
    "30 9 * * *",
    "30 2 * * *",
    "0 22 * * 1-5",
    "0 9 * * 1",
    "0 9 * * 1-5",
    "0 9 * * mon-fri",
    "0 9 * * MON,WED,FRI",
    "0 8 * * tue,thu",
    "0 0 * * Sat",
    "5 4 * * sun",
    "0 9 * * 0",
    "0 9 * * 7",
    "0 9 * * 5-7",
    "0 9 * * 6,7",
    "0 9 * * 0-6/2",
    "0 9 * * */2",
    "0 9 * * */3",
    "0 6 * * 2/2",
    "0 0 * * 1-7",
    "0 9-17 * * 1-5",
    "*/15 9-17 * * mon-fri",
    "0 12 * jun-aug sat,sun",
    "0 0 1 * *",
    "0 0 15 * *",
    "0 0 28 * *",
    "0 0 29 * *",
    "0 0 30 * *",
    "0 0 31 * *",
    "0 0 1-7 * *",
    "0 4 8-14 * *",
    "0 0 */10 * *",
    "0 0 1/10 * *",
    "0 0 29 2 *",
    "0 12 28-31 2 *",
    "59 23 28 2 *",
    "0 0 * 2 *",
    "0 0 1 1 *",
    "45 23 31 12 *",
    "1 2 3 4 *",
    "0 0 1 jan,jul *",
    "0 0 1 JAN-MAR *",
    "0 0 1 */3 *",
    "0 0 1 2-12/2 *",
    "0 0,12 1 */2 *",
    "0 0 31 1,3,5,7,8,10,12 *",
    "0 0 31 4,6,9,11,12 *",
    "0 0 13 * 5",
    "0 0 1 * 1",
    "0 0 1,15 * 1-5",
    "0 0 31 * sun",
    "0 9 1-7 * 1",
    "0 0 29 2 1",
    "0 0 30 2 1",
    "0 0 1 * mon-fri",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
]
STARTS = [
    datetime(2024, 2, 28, tzinfo=UTC),
    datetime(2023, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2100, 2, 27, tzinfo=UTC),
    datetime(2025, 6, 15, 12, 34, 56, tzinfo=UTC),
]


def ours(expression: str, start: datetime, count: int) -> list[datetime]:
    """jobdeck's next ``count`` fire times in UTC."""
    timing = Timing(schedule_type="cron", timezone="UTC", cron_expression=expression)
    return [fire.utc for fire in next_fire_times(timing, start, count)]


def theirs(expression: str, start: datetime, count: int) -> list[datetime]:
    """croniter's next ``count`` fire times in UTC."""
    iterator = croniter(expression, start)
    return [iterator.get_next(datetime) for _ in range(count)]


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 70
    assert len(set(TABLE)) == len(TABLE)


@pytest.mark.parametrize("start", STARTS, ids=lambda s: s.strftime("%Y-%m-%dT%H:%M"))
@pytest.mark.parametrize("expression", TABLE)
def test_matches_croniter(expression: str, start: datetime) -> None:
    assert ours(expression, start, 20) == theirs(expression, start, 20)


def test_monday_is_monday_not_tuesday() -> None:
    # The APScheduler trap: CronTrigger.from_crontab("0 9 * * 1") fires on Tuesdays.
    fires = ours("0 9 * * 1", datetime(2024, 1, 1, 9, tzinfo=UTC), 5)
    assert [f.strftime("%a %H:%M") for f in fires] == ["Mon 09:00"] * 5
    assert fires[0] == datetime(2024, 1, 8, 9, tzinfo=UTC)


def test_feb_29_skips_2100() -> None:
    fires = ours("0 0 29 2 *", datetime(2096, 3, 1, tzinfo=UTC), 2)
    assert fires == [datetime(2104, 2, 29, tzinfo=UTC), datetime(2108, 2, 29, tzinfo=UTC)]


def test_dom_dow_or_rule() -> None:
    # Both restricted: the 13th of any month OR any Friday.
    fires = ours("0 0 13 * 5", datetime(2024, 10, 1, tzinfo=UTC), 6)
    assert [f.strftime("%m-%d %a") for f in fires] == [
        "10-04 Fri",
        "10-11 Fri",
        "10-13 Sun",
        "10-18 Fri",
        "10-25 Fri",
        "11-01 Fri",
    ]


# Where croniter 7.0 deviates from Vixie cron; jobdeck follows Vixie. (expression, start, first 4)
VIXIE_ONLY = [
    # Vixie: a field starting with "*" is unrestricted, so "*/2" in day-of-week keeps the AND
    # rule: the 1st of the month when it is Sun/Tue/Thu/Sat. croniter ORs any non-"*" field.
    ("0 0 1 * */2", datetime(2024, 1, 1, tzinfo=UTC), ["2024-02-01", "2024-06-01", "2024-08-01"]),
    # Same for "*/10" in day-of-month: days 1, 11, 21, 31 that are Mondays.
    ("0 0 */10 * 1", datetime(2024, 1, 1, tzinfo=UTC), ["2024-03-11", "2024-04-01", "2024-07-01"]),
    # "7-7" and "7/1" are Sunday only; croniter 7.0 fires every day for both.
    ("0 0 * * 7-7", datetime(2024, 1, 1, tzinfo=UTC), ["2024-01-07", "2024-01-14", "2024-01-21"]),
    ("0 0 * * 7/1", datetime(2024, 1, 1, tzinfo=UTC), ["2024-01-07", "2024-01-14", "2024-01-21"]),
    # croniter 7.0 reads any one-value range "N-N" (and "N-N/s") as "*": "0 5-5 * * *" would be
    # hourly and "0 0 3-3 * *" daily. Vixie: 05:00 daily, and the 3rd of each month.
    ("0 5-5 * * *", datetime(2024, 1, 1, tzinfo=UTC), ["2024-01-01", "2024-01-02", "2024-01-03"]),
    ("0 0 3-3 * *", datetime(2024, 1, 1, tzinfo=UTC), ["2024-01-03", "2024-02-03", "2024-03-03"]),
    # "a/n" means a-max/n and day-of-week's max is 7 (Sunday), as "*" means 0-7 in Vixie:
    # 1/2 = Mon, Wed, Fri, Sun. croniter stops at 6 and never fires on the Sunday.
    ("0 0 * * 1/2", datetime(2024, 1, 1, tzinfo=UTC), ["2024-01-03", "2024-01-05", "2024-01-07"]),
]


@pytest.mark.parametrize(("expression", "start", "expected"), VIXIE_ONLY)
def test_vixie_semantics_where_croniter_differs(
    expression: str, start: datetime, expected: list[str]
) -> None:
    fires = ours(expression, start, len(expected))
    assert [f.strftime("%Y-%m-%d") for f in fires] == expected
    assert fires != theirs(expression, start, len(expected))  # the deviation is real


def test_vixie_and_rule_checked_day_by_day() -> None:
    spec = parse_cron("0 0 */10 * 1")
    assert not spec.dom_restricted and spec.dow_restricted
    fires = ours("0 0 */10 * 1", datetime(2024, 1, 1, tzinfo=UTC), 12)
    assert all(f.day in (1, 11, 21, 31) and f.weekday() == 0 for f in fires)


# Hypothesis: expressions generated from the field grammar, restricted to the forms on which
# croniter agrees with Vixie (no "*/n" in a day field next to a restricted day field, no 7 in
# the day-of-week field, no one-value ranges).
def _field(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    single = value.map(str)
    # Distinct ends: croniter 7.0 reads a one-value range "N-N" as "*" (see VIXIE_ONLY).
    ends = st.tuples(value, value).filter(lambda p: p[0] != p[1]).map(sorted)
    span = ends.map(lambda p: f"{p[0]}-{p[1]}")
    stepped = st.tuples(ends, st.integers(1, high - low + 1)).map(
        lambda p: f"{p[0][0]}-{p[0][1]}/{p[1]}"
    )
    star_step = st.integers(1, high - low + 1).map(lambda s: f"*/{s}")
    item = st.one_of(single, span, stepped)
    listed = st.lists(item, min_size=1, max_size=3).map(",".join)
    return st.one_of(st.just("*"), star_step, listed)


def _restricted(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    return st.lists(value, min_size=1, max_size=3).map(lambda vs: ",".join(map(str, vs)))


@st.composite
def cron_expressions(draw: st.DrawFn) -> str:
    """A random valid five-field expression in the croniter-compatible subset."""
    minute = draw(_field(0, 59))
    hour = draw(_field(0, 23))
    month = draw(_field(1, 12))
    if draw(st.booleans()):
        dom, dow = draw(_field(1, 31)), "*"
    elif draw(st.booleans()):
        dom, dow = "*", draw(_field(0, 6))
    else:
        dom, dow = draw(_restricted(1, 31)), draw(_restricted(0, 6))
    return f"{minute} {hour} {dom} {month} {dow}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    expression=cron_expressions(),
    start=st.datetimes(datetime(2000, 1, 1), datetime(2090, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
)
def test_property_matches_croniter(expression: str, start: datetime) -> None:
    try:
        parse_cron(expression)
    except Exception:
        return  # e.g. "31 in April only": rejected as never firing, croniter would loop
    fires = ours(expression, start, 10)
    assert all(a < b for a, b in itertools.pairwise(fires))
    assert all(f > start for f in fires)
    assert fires == theirs(expression, start, 10)
