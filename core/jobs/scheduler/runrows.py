"""Pending run rows for due occurrences, built from ``core.jobs.execution.records``.

``new_run`` is the one definition of what a new run looks like, but constructing a SQLModel
row costs ~0.3 ms; in a burst that alone would take seconds. So each template's row is built
by ``new_run`` once per batch and then copied as a plain dict with the per-occurrence fields
(schedule, name, parameters, scheduled_for, not_before) filled in for a Core bulk insert.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from core.jobs.execution.records import new_run, run_parameters
from core.jobs.scheduler.policy import jitter_offset
from core.jobs.scheduler.state import RUNS, DueSchedule
from core.settings.secrets import SecretBox
from core.storage.tables import JobRun, JobTemplate

_COLUMNS = [column.key for column in RUNS.columns if column.key != "id"]
#: The columns that differ between the runs of one template in a batch, in insert order.
VARYING = ("job_schedule_id", "job_name", "parameters", "scheduled_for", "not_before")


def row_of(run: JobRun) -> dict[str, Any]:
    """A JobRun's column values as a dict for a Core insert."""
    return {name: getattr(run, name) for name in _COLUMNS}


class RunRows:
    """Builds run rows for one batch; raises JobdeckError for a broken template or parameters."""

    def __init__(self, secrets: SecretBox | None, now: datetime, rng: random.Random) -> None:
        self.secrets = secrets
        self.now = now
        self.rng = rng
        self._prototypes: dict[tuple[int, str], dict[str, Any]] = {}
        self._constants: dict[tuple[int, str], dict[str, Any]] = {}
        # Keyed by the identity of the schedule's overrides dict: the reader shares one dict
        # between schedules with the same overrides, so each distinct set resolves once. The
        # dict itself is kept in the value, so its id cannot be reused while this object lives.
        self._parameters: dict[tuple[int, int], tuple[dict[str, Any], dict[str, Any]]] = {}

    def _prototype(self, template: JobTemplate, triggered_by: str) -> dict[str, Any]:
        assert template.id is not None
        cache_key = (template.id, triggered_by)
        found = self._prototypes.get(cache_key)
        if found is None:
            run = new_run(
                template=template,
                schedule=None,
                triggered_by=triggered_by,
                scheduled_for=self.now,
                now=self.now,
                parameters={},
                executed_by=None,
            )
            found = self._prototypes[cache_key] = row_of(run)
        return found

    def parameters(self, template: JobTemplate, schedule: DueSchedule) -> dict[str, Any]:
        """Template defaults with the schedule's overrides (secrets stay sealed)."""
        assert template.id is not None
        key = (template.id, id(schedule.parameters))
        found = self._parameters.get(key)
        if found is None:
            # Passing the overrides as ``given`` merges them exactly as a schedule row would.
            resolved = run_parameters(template, None, schedule.parameters, self.secrets)
            found = self._parameters[key] = (schedule.parameters, resolved)
        return found[1]

    def constant(self, template: JobTemplate, triggered_by: str = "schedule") -> dict[str, Any]:
        """The columns every run of ``template`` in this batch shares (None columns left out)."""
        assert template.id is not None
        key = (template.id, triggered_by)
        found = self._constants.get(key)
        if found is None:
            prototype = self._prototype(template, triggered_by)
            found = {
                name: value
                for name, value in prototype.items()
                if name not in VARYING and value is not None
            }
            found["queued_at"] = self.now
            self._constants[key] = found
        return found

    def varying(
        self, template: JobTemplate, schedule: DueSchedule, scheduled_for: datetime
    ) -> tuple[Any, ...]:
        """The per-run values, in ``VARYING`` order."""
        offset = jitter_offset(schedule.policy, schedule.id, self.rng)
        return (
            schedule.id,
            schedule.name,
            self.parameters(template, schedule),
            scheduled_for,
            # Jitter delays the start only; scheduled_for (the occurrence key) stays nominal.
            scheduled_for + timedelta(seconds=offset) if offset else None,
        )

    def build(
        self,
        template: JobTemplate,
        schedule: DueSchedule,
        scheduled_for: datetime,
        triggered_by: str = "schedule",
    ) -> dict[str, Any]:
        """One pending run as a full column dict (for Core inserts of a few runs)."""
        row = dict(self._prototype(template, triggered_by))
        row.update(zip(VARYING, self.varying(template, schedule, scheduled_for), strict=True))
        row["queued_at"] = self.now
        return row
