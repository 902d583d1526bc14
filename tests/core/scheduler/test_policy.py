"""Pure policy decisions: deadline, catch-up, overlap, pause and jitter (no database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from core.jobs.scheduler.policy import (
    Decision,
    Policy,
    apply_overlap,
    dropped_by_cap,
    hash_fraction,
    jitter_offset,
    paused,
    plan_due,
    reason_kind,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def minutes_before(*offsets: int) -> list[datetime]:
    """Occurrences N minutes before NOW, oldest first."""
    return sorted(NOW - timedelta(minutes=m) for m in offsets)


def verdicts(decisions: list[Decision]) -> list[str]:
    return [d.verdict for d in decisions]


def test_a_lone_occurrence_within_the_deadline_runs_late_with_its_lateness() -> None:
    [decision] = plan_due(minutes_before(4), NOW, Policy(), catching_up=False)
    assert decision.verdict == "run"
    assert decision.outcome == "ran"
    assert decision.lateness == 240.0


def test_a_lone_occurrence_past_the_deadline_is_missed_with_the_lateness() -> None:
    [decision] = plan_due(minutes_before(6), NOW, Policy(), catching_up=False)
    assert decision.verdict == "missed"
    assert reason_kind(decision.reason) == "deadline"
    assert "6 min late" in (decision.reason or "")


def test_the_deadline_boundary_is_inclusive() -> None:
    [decision] = plan_due(minutes_before(5), NOW, Policy(), catching_up=False)
    assert decision.verdict == "run"


def test_catch_up_latest_runs_the_newest_and_coalesces_the_rest() -> None:
    due = minutes_before(*range(1, 113))
    decisions = plan_due(due, NOW, Policy(catchup="latest"), catching_up=False)
    assert verdicts(decisions).count("run") == 1
    assert decisions[-1].verdict == "run"
    assert verdicts(decisions).count("coalesced") == 111
    assert [d.scheduled_for for d in decisions] == due


def test_catch_up_latest_on_start_runs_even_a_lone_late_occurrence() -> None:
    decisions = plan_due(minutes_before(600), NOW, Policy(catchup="latest"), catching_up=True)
    assert verdicts(decisions) == ["run"]


def test_catch_up_all_keeps_the_newest_cap_and_misses_the_rest() -> None:
    due = minutes_before(*range(1, 113))
    decisions = plan_due(due, NOW, Policy(catchup="all", catchup_cap=10), catching_up=True)
    assert verdicts(decisions)[-10:] == ["run"] * 10
    assert all(reason_kind(d.reason) == "catch-up cap" for d in decisions[:-10])
    assert dropped_by_cap(decisions) == 102


def test_catch_up_none_runs_only_a_timely_newest() -> None:
    due = minutes_before(1, 2, 3)
    decisions = plan_due(due, NOW, Policy(catchup="none"), catching_up=True)
    assert verdicts(decisions) == ["missed", "missed", "run"]
    assert reason_kind(decisions[0].reason) == "catch-up none"
    late = plan_due(minutes_before(60, 30, 10), NOW, Policy(catchup="none"), catching_up=True)
    assert verdicts(late) == ["missed"] * 3
    assert reason_kind(late[-1].reason) == "deadline"


def test_occurrences_older_than_the_window_are_missed() -> None:
    policy = Policy(catchup="latest", catchup_window_seconds=3600)
    due = minutes_before(*range(1, 181))
    decisions = plan_due(due, NOW, policy, catching_up=True)
    outside = [d for d in decisions if reason_kind(d.reason) == "outside catch-up window"]
    assert len(outside) == 120
    assert all(d.verdict == "missed" for d in outside)
    assert verdicts(decisions).count("run") == 1
    assert verdicts(decisions).count("coalesced") == 59


def test_a_backlog_chunk_keeps_nothing_because_newer_ones_follow() -> None:
    due = minutes_before(*range(200, 300))
    for catchup, verdict in (("latest", "coalesced"), ("all", "missed"), ("none", "missed")):
        decisions = plan_due(due, NOW, Policy(catchup=catchup), catching_up=True, more_after=True)
        assert set(verdicts(decisions)) == {verdict}


def test_no_due_occurrences_no_decisions() -> None:
    assert plan_due([], NOW, Policy(), catching_up=True) == []


def runs_at(*offsets: int) -> list[Decision]:
    return [Decision(t, "run", None, 0.0) for t in minutes_before(*offsets)]


@pytest.mark.parametrize(
    ("policy", "active", "expected"),
    [
        (Policy(overlap="skip"), 0, ["run", "skipped", "skipped"]),
        (Policy(overlap="skip"), 1, ["skipped", "skipped", "skipped"]),
        (Policy(overlap="queue", overlap_max=1), 1, ["run", "skipped", "skipped"]),
        (Policy(overlap="queue", overlap_max=2), 0, ["run", "run", "run"]),
        (Policy(overlap="allow", overlap_max=2), 1, ["run", "skipped", "skipped"]),
        (Policy(overlap="allow", overlap_max=5), 0, ["run", "run", "run"]),
    ],
)
def test_overlap_limits(policy: Policy, active: int, expected: list[str]) -> None:
    result = apply_overlap(runs_at(3, 2, 1), policy, active)
    assert verdicts(result.decisions) == expected
    assert all(
        reason_kind(d.reason) == "overlap" for d in result.decisions if d.verdict == "skipped"
    )
    assert result.replace_reason is None


def test_replace_keeps_the_newest_and_cancels_the_active_ones() -> None:
    result = apply_overlap(runs_at(3, 2, 1), Policy(overlap="replace"), active=2)
    assert verdicts(result.decisions) == ["skipped", "skipped", "run"]
    assert result.replace_reason is not None
    assert result.replace_reason.startswith("replaced by occurrence 2026-03-02T09:59:00")
    nothing_active = apply_overlap(runs_at(1), Policy(overlap="replace"), active=0)
    assert nothing_active.replace_reason is None


def test_overlap_leaves_other_verdicts_alone() -> None:
    coalesced = Decision(NOW, "coalesced", "coalesced: x", 0.0)
    result = apply_overlap([coalesced], Policy(overlap="skip"), active=3)
    assert result.decisions == [coalesced]


def test_paused_skips_everything_with_the_reason() -> None:
    decisions = paused(minutes_before(2, 1), NOW, "paused: template 'x' is paused")
    assert verdicts(decisions) == ["skipped", "skipped"]
    assert {reason_kind(d.reason) for d in decisions} == {"paused"}


def test_hash_jitter_is_stable_per_schedule_and_bounded() -> None:
    policy = Policy(jitter="hash", jitter_seconds=120)
    rng = random.Random(1)
    offsets = {sid: jitter_offset(policy, sid, rng) for sid in range(1, 200)}
    assert all(0 <= v < 120 for v in offsets.values())
    assert offsets[7] == jitter_offset(policy, 7, random.Random(99))
    assert len(set(offsets.values())) > 150  # spread, not one value
    assert hash_fraction(7) == hash_fraction(7)


def test_random_jitter_is_bounded_and_off_is_zero() -> None:
    rng = random.Random(3)
    values = [jitter_offset(Policy(jitter="random", jitter_seconds=30), 1, rng) for _ in range(500)]
    assert all(0 <= v <= 30 for v in values)
    assert len(set(values)) > 400
    assert jitter_offset(Policy(jitter="off", jitter_seconds=30), 1, rng) == 0.0


def test_reason_kind() -> None:
    assert reason_kind("overlap: skip, 1 run still active") == "overlap"
    assert reason_kind("maintenance") == "maintenance"
    assert reason_kind(None) is None
