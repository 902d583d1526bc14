"""Rows for every table of schema revision 0001, written without the ORM of today's schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from core.storage.types import UTCDateTime

#: The tables revision 0001 creates, parents first.
TABLES_0001 = (
    "job_templates",
    "job_template_revisions",
    "job_schedules",
    "job_runs",
    "job_run_attempts",
    "audit_log",
)

RIGA = timezone(timedelta(hours=2))
NEW_YORK = timezone(timedelta(hours=-5))
T0 = datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=RIGA)


_JSON, _TS, _BOOL = sa.JSON, UTCDateTime, sa.Boolean

#: Columns of revision 0001 whose values need a type to be stored and read (the rest are plain).
TYPED_COLUMNS_0001: dict[str, dict[str, Any]] = {
    "job_templates": {
        **dict.fromkeys(("config", "parameters", "tags", "retry_on", "retention"), _JSON),
        **dict.fromkeys(("created_at", "updated_at"), _TS),
        **dict.fromkeys(("is_global", "paused"), _BOOL),
    },
    "job_template_revisions": {"snapshot": _JSON, "created_at": _TS},
    "job_schedules": {
        "job_parameters": _JSON,
        "is_active": _BOOL,
        **dict.fromkeys(
            ("run_at", "start_at", "end_at", "next_run", "last_run", "created_at", "updated_at"),
            _TS,
        ),
    },
    "job_runs": {
        **dict.fromkeys(("parameters", "template_snapshot", "result"), _JSON),
        "cancel_requested": _BOOL,
        **dict.fromkeys(
            (
                "scheduled_for",
                "queued_at",
                "started_at",
                "completed_at",
                "heartbeat_at",
                "deadline_at",
            ),
            _TS,
        ),
    },
    "job_run_attempts": dict.fromkeys(("started_at", "completed_at"), _TS),
    "audit_log": {"at": _TS, "before": _JSON, "after": _JSON},
}


def typed_table(name: str, columns: list[str]) -> sa.TableClause:
    """A lightweight table with revision 0001's column types, independent of today's models."""
    types = TYPED_COLUMNS_0001[name]
    return sa.table(name, *(sa.column(c, types[c]() if c in types else None) for c in columns))


def _insert(connection: Connection, name: str, row: dict[str, Any]) -> dict[str, Any]:
    """Insert one row and return it with the id the database gave it."""
    table = typed_table(name, ["id", *row])
    new_id = connection.execute(sa.insert(table).values(row).returning(table.c.id)).scalar_one()
    return {"id": new_id, **row}


def seed_0001(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Fill every 0001 table, every column set at least once; return the rows as inserted."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES_0001}

    def add(table: str, row: dict[str, Any]) -> int:
        stored = _insert(connection, table, row)
        rows[table].append(stored)
        return int(stored["id"])

    template_common = {
        "job_type": "shell",
        "timeout_seconds": None,
        "deadline_seconds": None,
        "retries": 0,
        "retry_backoff": "exponential",
        "retry_delay_seconds": 10.0,
        "retry_on": ["failed", "lost"],
        "overlap": None,
        "retention": None,
        "is_global": True,
        "owner": None,
        "paused": False,
        "revision": 1,
    }
    backup = add(
        "job_templates",
        template_common
        | {
            "name": "backup [daily]",
            "description": "Nightly rsync of /srv — Rīga ✓",
            "config": {"argv": ["rsync", "-a", "/srv/", "b:/srv/"], "env": {"A": "1"}, "n": 2**60},
            "parameters": [
                {"name": "target", "type": "str", "default": "/srv", "required": True},
                {"name": "token", "type": "str", "secret": True, "choices": None},
            ],
            "tags": ["backup", "nightly"],
            "timeout_seconds": 3600.5,
            "deadline_seconds": 120.0,
            "retries": 3,
            "retry_backoff": "fixed",
            "retention": {"keep_runs": 100, "keep_days": 30},
            "is_global": False,
            "owner": "alice",
            "paused": True,
            "revision": 2,
            "overlap": "queue",
            "created_at": T0,
            "updated_at": T0 + timedelta(days=1, microseconds=1),
        },
    )
    report = add(
        "job_templates",
        template_common
        | {
            "name": "report",
            "job_type": "python",
            "description": None,
            "config": {"callable": "reports:daily", "kwargs": {"nested": [[1, 2], {"x": None}]}},
            "parameters": [],
            "tags": [],
            "created_at": datetime(2025, 12, 31, 23, 0, tzinfo=NEW_YORK),
            "updated_at": datetime(2026, 1, 1, 4, 0, tzinfo=UTC),
        },
    )
    add(
        "job_template_revisions",
        {
            "template_id": backup,
            "revision": 1,
            "snapshot": {"config": {"argv": ["rsync", "/srv/"]}, "tags": ["backup"]},
            "changed_by": "alice",
            "created_at": T0,
        },
    )
    add(
        "job_template_revisions",
        {
            "template_id": backup,
            "revision": 2,
            "snapshot": {"config": {"argv": ["rsync", "-a", "/srv/", "b:/srv/"]}, "tags": []},
            "changed_by": None,
            "created_at": T0 + timedelta(days=1),
        },
    )

    schedule_common = {
        "cron_expression": None,
        "interval_seconds": None,
        "run_at": None,
        "minute": None,
        "time_of_day": None,
        "weekday": None,
        "day_of_month": None,
        "start_at": None,
        "end_at": None,
        "is_active": True,
        "start_deadline_seconds": 300.0,
        "catchup": "latest",
        "catchup_cap": 10,
        "catchup_window_seconds": 86400.0,
        "overlap": "skip",
        "overlap_max": 1,
        "replace_grace_seconds": 10.0,
        "jitter": "off",
        "jitter_seconds": 0.0,
        "next_run": None,
        "last_run": None,
        "owner": None,
        "created_at": T0,
        "updated_at": T0,
    }
    nightly = add(
        "job_schedules",
        schedule_common
        | {
            "job_identifier": "backup-nightly",
            "job_template_id": backup,
            "schedule_type": "cron",
            "cron_expression": "0 3 * * 1-5",
            "timezone": "Europe/Riga",
            "start_at": T0,
            "end_at": T0 + timedelta(days=365),
            "job_parameters": {"target": "/srv/www", "flags": ["-v"]},
            "catchup": "all",
            "catchup_cap": 5,
            "overlap": "replace",
            "overlap_max": 2,
            "jitter": "uniform",
            "jitter_seconds": 30.0,
            "next_run": datetime(2026, 3, 30, 0, 0, tzinfo=UTC),
            "last_run": datetime(2026, 3, 29, 3, 0, tzinfo=RIGA),
            "owner": "alice",
        },
    )
    add(
        "job_schedules",
        schedule_common
        | {
            "job_identifier": "report-once",
            "job_template_id": report,
            "schedule_type": "once",
            "run_at": datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK),
            "minute": 30,
            "time_of_day": "01:30",
            "weekday": 6,
            "day_of_month": 1,
            "interval_seconds": 900,
            "timezone": "America/New_York",
            "is_active": False,
            "job_parameters": {},
        },
    )

    run_common = {
        "job_template_id": backup,
        "job_schedule_id": nightly,
        "retry_of_run_id": None,
        "celery_task_id": None,
        "job_name": "backup [daily]",
        "job_type": "shell",
        "scheduled_for": None,
        "started_at": None,
        "completed_at": None,
        "duration_seconds": None,
        "attempts": 0,
        "max_attempts": 1,
        "exit_code": None,
        "signal": None,
        "worker": None,
        "host": None,
        "pid": None,
        "pgid": None,
        "parameters": {},
        "template_revision": None,
        "template_snapshot": None,
        "result": None,
        "error_message": None,
        "log_size": 0,
        "executed_by": None,
        "heartbeat_at": None,
        "deadline_at": None,
        "cancel_requested": False,
    }
    started = datetime(2026, 3, 29, 3, 0, 1, 500000, tzinfo=RIGA)
    failed = add(
        "job_runs",
        run_common
        | {
            "status": "failed",
            "triggered_by": "schedule",
            "scheduled_for": datetime(2026, 3, 29, 3, 0, tzinfo=RIGA),
            "queued_at": started - timedelta(seconds=1),
            "started_at": started,
            "completed_at": started + timedelta(seconds=61.25),
            "duration_seconds": 61.25,
            "attempts": 1,
            "max_attempts": 3,
            "exit_code": 23,
            "worker": "local",
            "host": "db1.example",
            "pid": 4242,
            "pgid": 4242,
            "parameters": {"target": "/srv/www"},
            "template_revision": 2,
            "template_snapshot": {"config": {"argv": ["rsync"]}, "revision": 2},
            "result": {"files": 10, "errors": [{"path": "/srv/x", "code": 23}]},
            "error_message": "rsync: some files vanished\nexit 23",
            "log_size": 123456,
            "executed_by": "scheduler",
            "heartbeat_at": started + timedelta(seconds=60),
            "deadline_at": started + timedelta(hours=1),
        },
    )
    add(
        "job_runs",
        run_common
        | {
            "retry_of_run_id": failed,
            "celery_task_id": "7d3f0c1e-0000-4000-8000-000000000001",
            "status": "completed",
            "triggered_by": "retry",
            "scheduled_for": datetime(2026, 3, 29, 3, 0, tzinfo=RIGA),
            "queued_at": started + timedelta(minutes=2),
            "started_at": started + timedelta(minutes=2, seconds=1),
            "completed_at": started + timedelta(minutes=3),
            "duration_seconds": 59.0,
            "attempts": 1,
            "exit_code": 0,
            "signal": None,
            "worker": "celery@w2",
            "result": ["ok", 1, 2.5, None, True],
        },
    )
    add(
        "job_runs",
        run_common
        | {
            "job_template_id": report,
            "job_schedule_id": None,
            "job_name": "report",
            "job_type": "python",
            "status": "cancelled",
            "triggered_by": "manual",
            "queued_at": datetime(2026, 3, 28, 23, 0, tzinfo=NEW_YORK),
            "signal": 15,
            "result": "cancelled by operator",
            "cancel_requested": True,
        },
    )
    add(
        "job_run_attempts",
        {
            "run_id": failed,
            "attempt": 1,
            "status": "failed",
            "started_at": started,
            "completed_at": started + timedelta(seconds=61.25),
            "exit_code": 23,
            "signal": None,
            "pid": 4242,
            "worker": "local",
            "error_message": "exit 23",
        },
    )
    add(
        "job_run_attempts",
        {
            "run_id": failed,
            "attempt": 2,
            "status": "timed_out",
            "started_at": started + timedelta(minutes=1),
            "completed_at": None,
            "exit_code": None,
            "signal": 9,
            "pid": 4343,
            "worker": None,
            "error_message": None,
        },
    )
    add(
        "audit_log",
        {
            "at": T0,
            "actor": "alice",
            "source": "tui",
            "action": "template.update",
            "target_type": "template",
            "target_id": backup,
            "target_name": "backup [daily]",
            "before": {"tags": ["backup"], "revision": 1},
            "after": {"tags": ["backup", "nightly"], "revision": 2},
        },
    )
    add(
        "audit_log",
        {
            "at": datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
            "actor": "api-token:ci",
            "source": "api",
            "action": "run.create",
            "target_type": "run",
            "target_id": None,
            "target_name": None,
            "before": None,
            "after": {"status": "pending"},
        },
    )
    return rows
