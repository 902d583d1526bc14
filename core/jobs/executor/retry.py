"""Retry policy (SCHEDULING.md rule 11): which endings retry, and after how long."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

#: Endings retried when the template does not say (rule 11: not timeouts, not cancels).
DEFAULT_RETRY_ON = ("failed", "lost")
#: Exponential backoff never waits longer than this between attempts.
MAX_BACKOFF_SECONDS = 3600.0
#: Each delay is spread by up to this fraction either way, so retries do not stampede.
JITTER = 0.10


def backoff_seconds(
    snapshot: dict[str, Any], failed_attempt: int, rand: Callable[[], float] = random.random
) -> float:
    """The wait before the attempt after ``failed_attempt`` (1-based), jitter included."""
    delay = max(0.0, float(snapshot.get("retry_delay_seconds") or 0.0))
    if (snapshot.get("retry_backoff") or "exponential") == "exponential":
        delay *= 2 ** max(0, failed_attempt - 1)
    delay = min(delay, MAX_BACKOFF_SECONDS)
    return delay * (1 - JITTER + 2 * JITTER * rand())


@dataclass(frozen=True)
class RetryDecision:
    """Whether the run gets another attempt, and when it may be claimed."""

    retry: bool
    not_before: datetime | None
    why_not: str | None = None


def decide(
    snapshot: dict[str, Any],
    *,
    status: str,
    attempt: int,
    max_attempts: int,
    deadline_at: datetime | None,
    now: datetime,
    permanent: bool = False,
    rand: Callable[[], float] = random.random,
) -> RetryDecision:
    """Retry ``status`` when the template retries it, attempts remain and the deadline allows."""
    if status == "completed":
        return RetryDecision(False, None)
    retry_on = snapshot.get("retry_on")
    if retry_on is None:
        retry_on = DEFAULT_RETRY_ON
    if permanent:
        return RetryDecision(False, None, "the problem is in the template, not the run")
    if status not in retry_on:
        return RetryDecision(False, None, f"{status} is not retried")
    if attempt >= max_attempts:
        if max_attempts > 1:
            return RetryDecision(False, None, f"all {max_attempts} attempts used")
        return RetryDecision(False, None, "no retries configured")
    not_before = now + timedelta(seconds=backoff_seconds(snapshot, attempt, rand))
    if deadline_at is not None and not_before >= deadline_at:
        return RetryDecision(False, None, "the overall deadline leaves no time for another attempt")
    return RetryDecision(True, not_before)
