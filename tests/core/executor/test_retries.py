"""Retries (SCHEDULING.md rule 11): backoff, attempt rows, per-attempt logs, what is retried."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.clock import ManualClock
from core.jobs.executor.retry import MAX_BACKOFF_SECONDS, backoff_seconds, decide

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FLAKY = 'echo "attempt $JOBDECK_ATTEMPT"; echo "oops $JOBDECK_ATTEMPT" >&2; [ "$JOBDECK_ATTEMPT" -ge 3 ]'


async def test_a_flaky_job_is_retried_until_it_succeeds(deck: Any) -> None:
    template = deck.shell(FLAKY, retries=4, retry_delay_seconds=0.2, retry_backoff="fixed")
    run_id = deck.run(template)
    await deck.started()
    run = await deck.wait_for(run_id, ("completed", "failed"))
    assert run.status == "completed"
    assert run.attempts == 3
    attempts = deck.attempts(run_id)
    assert [(a.attempt, a.status, a.exit_code) for a in attempts] == [
        (1, "failed", 1),
        (2, "failed", 1),
        (3, "completed", 0),
    ]
    for before, after in itertools.pairwise(attempts):
        # The backoff (0.2 s, jitter ±10 %) separates an attempt from the next.
        assert after.started_at - before.completed_at >= timedelta(seconds=0.17)
    for number in (1, 2, 3):
        assert deck.log(run_id, "stdout", attempt=number) == f"attempt {number}\n"
        assert deck.log(run_id, "stderr", attempt=number) == f"oops {number}\n"
    assert "attempt 2 of 5 starts in" in deck.log(run_id, "system", attempt=1)
    # One ordered log across attempts.
    seqs = [chunk.seq for chunk in deck.chunks(run_id)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert run.started_at == attempts[0].started_at
    assert run.log_size == len(deck.log(run_id).encode())


async def test_retries_stop_when_attempts_run_out(deck: Any) -> None:
    template = deck.shell(["false"], retries=2, retry_delay_seconds=0.05, retry_backoff="fixed")
    run_id = deck.run(template)
    await deck.started()
    run = await deck.wait_for(run_id, ("completed", "failed"))
    assert (run.status, run.attempts, run.max_attempts) == ("failed", 3, 3)
    assert deck.log(run_id, "system").endswith(
        "[jobdeck] no further attempt: all 3 attempts used\n"
    )


async def test_timeouts_and_cancels_are_not_retried_unless_asked(deck: Any) -> None:
    plain = deck.run(deck.shell(["sleep", "10"], timeout_seconds=0.3, retries=2))
    asked = deck.run(
        deck.shell(
            ["sleep", "10"],
            timeout_seconds=0.3,
            retries=1,
            retry_delay_seconds=0.05,
            retry_on=["timed_out"],
        )
    )
    await deck.started()
    assert (await deck.wait_for(plain)).attempts == 1
    run = await deck.wait_for(asked)
    assert (run.status, run.attempts) == ("timed_out", 2)


async def test_a_retry_waits_for_its_not_before_on_the_injected_clock(deck: Any) -> None:
    clock = ManualClock(datetime.now(UTC))
    deck.clock = clock
    template = deck.shell(FLAKY, retries=1, retry_delay_seconds=600, retry_backoff="fixed")
    run_id = deck.run(template)
    executor = await deck.started(clock=clock)
    await deck.wait_until(
        lambda: deck.attempts(run_id), lambda a: bool(a) and a[0].status == "failed"
    )
    run = deck.get(run_id)
    assert run.status == "pending" and run.attempts == 1
    assert timedelta(seconds=540) <= run.not_before - clock.now() <= timedelta(seconds=660)
    assert run.owner_id is None
    await executor.wait_idle()  # not due yet: idle
    assert deck.get(run_id).status == "pending"
    clock.advance(700)
    executor.wake()
    run = await deck.wait_for(run_id, ("completed", "failed"))
    assert (run.status, run.attempts) == ("failed", 2)  # the flaky job needs 3


def test_backoff_fixed_and_exponential_with_jitter_and_cap() -> None:
    fixed = {"retry_backoff": "fixed", "retry_delay_seconds": 10}
    exponential = {"retry_backoff": "exponential", "retry_delay_seconds": 10}
    assert backoff_seconds(fixed, 1, lambda: 0.5) == pytest.approx(10)
    assert backoff_seconds(fixed, 5, lambda: 0.5) == pytest.approx(10)
    assert [backoff_seconds(exponential, n, lambda: 0.5) for n in (1, 2, 3, 4)] == pytest.approx(
        [10, 20, 40, 80]
    )
    assert backoff_seconds(exponential, 30, lambda: 0.5) == pytest.approx(MAX_BACKOFF_SECONDS)
    assert backoff_seconds(fixed, 1, lambda: 0.0) == pytest.approx(9)
    assert backoff_seconds(fixed, 1, lambda: 1.0) == pytest.approx(11)


@pytest.mark.parametrize(
    ("status", "attempt", "max_attempts", "retry_on", "permanent", "retry"),
    [
        ("failed", 1, 3, None, False, True),
        ("lost", 1, 3, None, False, True),
        ("timed_out", 1, 3, None, False, False),
        ("cancelled", 1, 3, None, False, False),
        ("timed_out", 1, 3, ["timed_out"], False, True),
        ("failed", 3, 3, None, False, False),
        ("failed", 1, 3, None, True, False),
        ("completed", 1, 3, None, False, False),
    ],
)
def test_what_is_retried(
    status: str,
    attempt: int,
    max_attempts: int,
    retry_on: list[str] | None,
    permanent: bool,
    retry: bool,
) -> None:
    snapshot = {"retry_delay_seconds": 1, "retry_on": retry_on}
    decision = decide(
        snapshot,
        status=status,
        attempt=attempt,
        max_attempts=max_attempts,
        deadline_at=None,
        now=NOW,
        permanent=permanent,
    )
    assert decision.retry is retry
    assert (decision.not_before is not None) is retry


def test_the_deadline_bounds_retries() -> None:
    snapshot = {"retry_delay_seconds": 60, "retry_backoff": "fixed"}
    ok = decide(
        snapshot,
        status="failed",
        attempt=1,
        max_attempts=3,
        deadline_at=NOW + timedelta(seconds=120),
        now=NOW,
    )
    late = decide(
        snapshot,
        status="failed",
        attempt=1,
        max_attempts=3,
        deadline_at=NOW + timedelta(seconds=50),
        now=NOW,
    )
    assert ok.retry and not late.retry
    assert late.why_not == "the overall deadline leaves no time for another attempt"
