"""The fake backend's seeded data: templates of every job type, schedules, ~200 runs, workers.

Everything is relative to the backend's clock and drawn from a fixed random seed, so the same
clock gives the same data (snapshots depend on it). Templates and schedules go through the
validating services; only the broken template, the runs and the workers are stored directly.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.backend.views import TRIGGERS
from core.jobs.parameters import ParameterSpec
from core.storage.tables import Worker

if TYPE_CHECKING:
    from core.backend.fake.backend import FakeBackend

RUN_COUNT = 200
_RANDOM_SEED = 20260302

TEMPLATES: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        name="backup [daily]",
        job_type="shell",
        config={"command": ["pg_dump", "--format=custom", "--file=/backups/app.dump", "app"]},
        parameters=(
            ParameterSpec(name="database", default="app"),
            ParameterSpec(name="retention_days", type="int", default=14),
            ParameterSpec(name="pg_password", type="secret", default="hunter2"),
        ),
        description="Dump the app database to /backups",
        tags=("db", "backup"),
        timeout_seconds=3600,
        retries=2,
    ),
    TemplateSpec(
        name="cleanup-tmp",
        job_type="shell",
        config={"command": "find /tmp -mtime +7 -delete"},
        description="Delete week-old files from /tmp",
        tags=("housekeeping",),
        timeout_seconds=600,
    ),
    TemplateSpec(
        name="crm-sync",
        job_type="python",
        config={"callable": "acme.crm.sync:run", "kwargs": {"batch": 500}},
        parameters=(
            ParameterSpec(name="mode", type="choice", choices=("delta", "full"), default="delta"),
        ),
        description="Pull changed accounts from the CRM",
        tags=("crm", "etl"),
        retries=3,
        retry_backoff="exponential",
    ),
    TemplateSpec(
        name="weekly-report",
        job_type="python",
        config={"callable": "acme.reports.weekly:build"},
        parameters=(ParameterSpec(name="recipients", default="ops@example.com"),),
        description="Build and mail the weekly usage report",
        tags=("reports",),
    ),
    TemplateSpec(
        name="api-healthcheck",
        job_type="http",
        config={"url": "https://api.example.com/health", "expected_status": [200, 204]},
        description="Probe the public API",
        tags=("monitoring",),
        timeout_seconds=30,
    ),
    TemplateSpec(
        name="status-page-ping",
        job_type="http",
        config={"url": "https://status.example.com/ping", "method": "post", "body": "{}"},
        tags=("monitoring", "status"),
    ),
    TemplateSpec(
        name="docs-mirror",
        job_type="git",
        config={"repository": "git@github.com:acme/docs.git", "command": "make html"},
        description="Rebuild the docs and push them to the mirror",
        tags=("docs",),
    ),
)
#: A template whose job type is not installed (a plug-in removed): listed, marked, never hidden.
BROKEN_TEMPLATE: dict[str, Any] = {
    "name": "legacy-inventory",
    "job_type": "ansible",
    "config": {"playbook": "inventory.yml"},
    "description": "Ansible inventory refresh (plug-in uninstalled)",
    "tags": ["legacy"],
}
# fmt: off
SCHEDULES: tuple[dict[str, Any], ...] = (
    {"job_identifier": "nightly-backup", "template": "backup [daily]", "schedule_type": "daily",
     "time_of_day": "02:30", "timezone": "Europe/Riga"},
    {"job_identifier": "wal-archive", "template": "backup [daily]", "schedule_type": "hourly",
     "minute": 15, "timezone": "UTC"},
    {"job_identifier": "tmp-sweep", "template": "cleanup-tmp", "schedule_type": "cron",
     "cron_expression": "*/30 * * * *", "timezone": "UTC"},
    {"job_identifier": "crm-delta", "template": "crm-sync", "schedule_type": "interval",
     "interval_seconds": 900, "timezone": "Asia/Tokyo"},
    {"job_identifier": "crm-full-once", "template": "crm-sync", "schedule_type": "once",
     "timezone": "UTC", "job_parameters": {"mode": "full"}},
    {"job_identifier": "monday-report", "template": "weekly-report", "schedule_type": "weekly",
     "weekday": 0, "time_of_day": "08:00", "timezone": "America/New_York"},
    {"job_identifier": "month-end-report", "template": "weekly-report",
     "schedule_type": "monthly", "day_of_month": 31, "time_of_day": "06:00",
     "timezone": "Europe/Riga"},
    {"job_identifier": "api-health", "template": "api-healthcheck", "schedule_type": "interval",
     "interval_seconds": 60, "timezone": "UTC"},
    {"job_identifier": "status-page", "template": "status-page-ping", "schedule_type": "cron",
     "cron_expression": "0 9-17 * * 1-5", "timezone": "America/New_York", "is_active": False},
    {"job_identifier": "docs-nightly", "template": "docs-mirror", "schedule_type": "daily",
     "time_of_day": "23:00", "timezone": "Asia/Tokyo"},
)
# fmt: on
#: Typical run length in seconds (low, high) per job type.
_DURATIONS = {
    "shell": (40.0, 900.0),
    "python": (5.0, 180.0),
    "http": (0.1, 2.5),
    "git": (4.0, 40.0),
}
_ERRORS = {
    "shell": "pg_dump: error: connection to server failed: FATAL: password authentication failed",
    "python": "KeyError: 'customer_id' (acme/crm/sync.py, line 88)",
    "http": "expected status 200 or 204, got 503 Service Unavailable",
    "git": "git push rejected: non-fast-forward (fetch first)",
}
_WORKERS = (("local-1", "ops-1"), ("celery@worker-a", "ops-2"), ("celery@worker-b", "ops-3"))
# fmt: off
#: (name, host, columns) of each seeded worker; the first three are the ones runs name.
_WORKER_ROWS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("local-1", "ops-1", {"kind": "local", "status": "running", "pid": 4242, "slots": 4,
                          "processed": 1318, "failed": 41, "heartbeat_age": 2}),
    ("celery@worker-a", "ops-2", {"kind": "celery", "status": "paused", "pid": 7311,
                                  "slots": 8, "processed": 5120, "failed": 87, "paused": True,
                                  "queues": ["default", "reports"], "heartbeat_age": 4}),
    ("celery@worker-b", "ops-3", {"kind": "celery", "status": "running", "pid": 7402,
                                  "slots": 8, "processed": 4876, "failed": 102,
                                  "queues": ["default"], "heartbeat_age": 19}),
    ("celery@worker-c", "ops-4", {"kind": "celery", "status": "offline", "pid": 7519,
                                  "slots": 2, "processed": 310, "failed": 12,
                                  "queues": ["git"], "heartbeat_age": 740}),
)
# fmt: on
# Fixed statuses for the newest runs, so every status shows up near the top of a runs list.
_NEWEST_STATUSES = (
    *("pending", "pending", "running", "running", "running"),
    *("failed", "cancelled", "timed_out", "lost"),
)
_LATER_STATUSES = ("completed",) * 16 + ("failed",) * 3 + ("cancelled", "timed_out", "lost")


def seed(backend: FakeBackend) -> None:
    """Fill an empty backend with the templates, schedules and runs above."""
    for spec in TEMPLATES:
        backend.templates.create(spec)
    backend.templates.insert_unchecked(**BROKEN_TEMPLATE)
    now = backend.clock.now()
    for fields in SCHEDULES:
        if fields["schedule_type"] == "once":
            fields = {**fields, "run_at": now + timedelta(days=2, hours=3)}
        backend.schedules.create(ScheduleSpec(**fields))
    _seed_runs(backend)
    _seed_workers(backend)


def _seed_runs(backend: FakeBackend) -> None:
    """RUN_COUNT runs, about every 13 minutes back from now, oldest stored first."""
    rng = random.Random(_RANDOM_SEED)
    now = backend.clock.now()
    templates = backend.store.templates
    broken_id = next(tid for tid, t in templates.items() if t.name == BROKEN_TEMPLATE["name"])
    schedules_of = {
        tid: [
            s.job_identifier for s in backend.store.schedules.values() if s.job_template_id == tid
        ]
        for tid in templates
    }
    plans = []
    for index in range(RUN_COUNT):  # index 0 is the newest run
        template_id = rng.choice([tid for tid in templates if tid != broken_id])
        if index > 150 and index % 10 == 0:
            template_id = broken_id
        queued = now - timedelta(minutes=13 * index + rng.randint(0, 9), seconds=rng.randint(0, 59))
        if index < len(_NEWEST_STATUSES):
            status = _NEWEST_STATUSES[index]
        else:
            status = rng.choice(_LATER_STATUSES)
        if template_id == broken_id:
            status = "failed"
        trigger = TRIGGERS[(index // 4) % len(TRIGGERS)] if index % 4 == 0 else "schedule"
        plans.append((template_id, queued, status, trigger))
    for template_id, queued, status, trigger in reversed(plans):
        schedule = None
        if trigger == "schedule" and schedules_of[template_id]:
            schedule = rng.choice(schedules_of[template_id])
        elif trigger == "schedule":
            trigger = "manual"
        job_type = templates[template_id].job_type
        fields = _run_fields(rng, job_type, queued, status, trigger, template_id == broken_id)
        backend.add_run(template=template_id, schedule=schedule, **fields)


def _seed_workers(backend: FakeBackend) -> None:
    """The pools the runs name, plus an offline one; ``active`` counts their running runs.

    Heartbeats are fresh, late (warning) and stale (offline) relative to the clock; nothing
    here draws from the runs' random stream, so adding workers leaves the runs unchanged.
    """
    now = backend.clock.now()
    running: dict[str, int] = {}
    for run in backend.store.runs.values():
        if run.status == "running" and run.worker:
            running[run.worker] = running.get(run.worker, 0) + 1
    for name, host, row in _WORKER_ROWS:
        fields = {**row, "queues": list(row.get("queues", ()))}
        heartbeat_age = fields.pop("heartbeat_age")
        backend.actions.workers[name] = Worker(
            id=backend.store.next_id("worker"),
            name=name,
            host=host,
            active=running.get(name, 0),
            started_at=now - timedelta(days=3, hours=4),
            heartbeat_at=now - timedelta(seconds=heartbeat_age),
            **fields,
        )


def _run_fields(
    rng: random.Random, job_type: str, queued: Any, status: str, trigger: str, broken: bool
) -> dict[str, Any]:
    """Status-dependent columns of one run: timing, worker, exit, result or error."""
    fields: dict[str, Any] = {"status": status, "triggered_by": trigger, "queued_at": queued}
    if trigger == "schedule":
        fields["scheduled_for"] = queued.replace(second=0, microsecond=0)
    if trigger == "retry":
        fields["attempts"], fields["max_attempts"] = 2, 3
    if status == "pending":
        return fields
    worker, host = rng.choice(_WORKERS)
    started = queued + timedelta(seconds=rng.uniform(0.05, 3.0))
    fields.update(worker=worker, host=host, pid=rng.randint(2000, 60000), started_at=started)
    fields.update(attempts=max(fields.get("attempts", 1), 1), log_size=rng.randint(200, 90000))
    if status == "running":
        return fields
    low, high = _DURATIONS.get(job_type, (1.0, 60.0))
    duration = round(rng.uniform(low, high), 3)
    fields["completed_at"] = started + timedelta(seconds=duration)
    if status == "completed":
        fields["exit_code"] = 0
        fields["result"] = _result(rng, job_type)
    elif status == "failed":
        fields["exit_code"] = 1
        fields["error_message"] = (
            "job type 'ansible' is not installed" if broken else _ERRORS.get(job_type, "failed")
        )
    elif status == "timed_out":
        fields["signal"] = 9
        fields["error_message"] = "timed out after 15m; SIGTERM, then SIGKILL after 10s"
    elif status == "cancelled":
        fields["signal"] = 15
        fields["error_message"] = "cancelled by alice from the TUI"
    elif status == "lost":
        fields["completed_at"] = None
        fields["error_message"] = f"{worker} stopped heartbeating; marked lost at start-up"
    return fields


def _result(rng: random.Random, job_type: str) -> Any:
    """A plausible return value for a completed run."""
    if job_type == "python":
        return {"rows_synced": rng.randint(0, 5000), "errors": 0}
    if job_type == "http":
        return {"status": 200, "elapsed_ms": rng.randint(40, 900)}
    if job_type == "git":
        return {"commit": f"{rng.getrandbits(28):07x}", "pushed": True}
    return None
