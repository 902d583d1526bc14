"""Small builders of valid table rows, so each test spells out only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.storage.tables import JobRun, JobSchedule, JobTemplate

#: A fixed instant, so tests never depend on the wall clock.
T0 = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)


def make_template(name: str = "backup", **overrides: Any) -> JobTemplate:
    """A shell template with the required fields filled in."""
    values: dict[str, Any] = {
        "name": name,
        "job_type": "shell",
        "config": {"command": ["true"]},
        "created_at": T0,
        "updated_at": T0,
    }
    return JobTemplate(**(values | overrides))


def make_schedule(
    template_id: int, identifier: str = "backup-nightly", **overrides: Any
) -> JobSchedule:
    """A daily schedule of ``template_id`` in Europe/Riga."""
    values: dict[str, Any] = {
        "job_identifier": identifier,
        "job_template_id": template_id,
        "schedule_type": "daily",
        "time_of_day": "03:00",
        "timezone": "Europe/Riga",
        "created_at": T0,
        "updated_at": T0,
    }
    return JobSchedule(**(values | overrides))


def make_run(**overrides: Any) -> JobRun:
    """A pending manual run queued at ``T0``."""
    values: dict[str, Any] = {
        "job_name": "backup",
        "job_type": "shell",
        "status": "pending",
        "triggered_by": "manual",
        "queued_at": T0,
    }
    return JobRun(**(values | overrides))
