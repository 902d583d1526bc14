"""An APScheduler 3 trigger that fires on jobdeck's own fire times (crontab weekdays, DST rules).

APScheduler's contract (``BaseTrigger.get_next_fire_time(previous_fire_time, now)``), as its
scheduler and ``Job._get_run_times`` use it: with no previous fire (adding or resuming a job)
return the first fire at or after ``now``; after a fire, return the next one, called repeatedly
to enumerate missed runs; None means the schedule is finished and the job is removed.
``CronTrigger`` starts the search at ``min(now, previous + 1 us)``; this trigger always searches
strictly after the previous fire, so a clock that stepped back never yields an occurrence twice.
Jitter is not applied here: jobdeck adds its own (rule 9).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from core.jobs.timing.firetimes import first_fire_at_or_after, next_fire_time
from core.jobs.timing.timing import Timing, describe, validate_timing


class JobdeckTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler ships no type hints
    """Drive an APScheduler job by a jobdeck Timing; fire times are aware UTC datetimes."""

    __slots__ = ("timing",)

    def __init__(self, timing: Timing) -> None:
        self.timing = validate_timing(timing)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The next fire strictly after ``previous_fire_time``, else the first at/after ``now``."""
        if previous_fire_time is not None:
            return next_fire_time(self.timing, previous_fire_time)
        return first_fire_at_or_after(self.timing, now)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle as plain JSON data so stored jobs survive changes to this class."""
        return {"version": 1, "timing": self.timing.model_dump(mode="json")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled trigger, re-validating its timing."""
        if state.get("version", 1) > 1:
            raise ValueError(
                f"Got serialized data for version {state['version']} of JobdeckTrigger, "
                "but only version 1 can be handled"
            )
        self.timing = Timing.model_validate(state["timing"])

    def __eq__(self, other: object) -> bool:
        """Triggers are equal when their timings are."""
        return isinstance(other, JobdeckTrigger) and other.timing == self.timing

    def __hash__(self) -> int:
        """Hash of the timing, consistent with equality."""
        return hash(self.timing)

    def __str__(self) -> str:
        """Short form, like APScheduler's own triggers: ``jobdeck[daily at 09:00 UTC]``."""
        return f"jobdeck[{describe(self.timing)}]"

    def __repr__(self) -> str:
        """Description plus the full timing."""
        return f"<JobdeckTrigger ({describe(self.timing)}) {self.timing!r}>"
