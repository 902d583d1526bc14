"""Initial schema: templates with revisions, schedules, runs, attempts, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.storage.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the catalogue and run-history tables."""
    op.create_table(
        "job_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("job_type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=True),
        sa.Column("deadline_seconds", sa.Float(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("retry_backoff", sa.String(), nullable=False),
        sa.Column("retry_delay_seconds", sa.Float(), nullable=False),
        sa.Column("retry_on", sa.JSON(), nullable=False),
        sa.Column("overlap", sa.String(), nullable=True),
        sa.Column("retention", sa.JSON(), nullable=True),
        sa.Column("is_global", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_templates_job_type"), ["job_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_templates_name"), ["name"], unique=True)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target_name", sa.String(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "job_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_identifier", sa.String(length=255), nullable=False),
        sa.Column("job_template_id", sa.Integer(), nullable=False),
        sa.Column("schedule_type", sa.String(length=16), nullable=False),
        sa.Column("cron_expression", sa.String(), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("run_at", UTCDateTime(), nullable=True),
        sa.Column("minute", sa.Integer(), nullable=True),
        sa.Column("time_of_day", sa.String(length=5), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("day_of_month", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=True),
        sa.Column("end_at", UTCDateTime(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("job_parameters", sa.JSON(), nullable=False),
        sa.Column("start_deadline_seconds", sa.Float(), nullable=False),
        sa.Column("catchup", sa.String(), nullable=False),
        sa.Column("catchup_cap", sa.Integer(), nullable=False),
        sa.Column("catchup_window_seconds", sa.Float(), nullable=False),
        sa.Column("overlap", sa.String(), nullable=False),
        sa.Column("overlap_max", sa.Integer(), nullable=False),
        sa.Column("replace_grace_seconds", sa.Float(), nullable=False),
        sa.Column("jitter", sa.String(), nullable=False),
        sa.Column("jitter_seconds", sa.Float(), nullable=False),
        sa.Column("next_run", UTCDateTime(), nullable=True),
        sa.Column("last_run", UTCDateTime(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_template_id"], ["job_templates.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_schedules_job_identifier"), ["job_identifier"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_job_schedules_next_run"), ["next_run"], unique=False)

    op.create_table(
        "job_template_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["job_templates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_id", "revision"),
    )

    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_template_id", sa.Integer(), nullable=True),
        sa.Column("job_schedule_id", sa.Integer(), nullable=True),
        sa.Column("retry_of_run_id", sa.Integer(), nullable=True),
        sa.Column("celery_task_id", sa.String(), nullable=True),
        sa.Column("job_name", sa.String(length=255), nullable=False),
        sa.Column("job_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("triggered_by", sa.String(length=16), nullable=False),
        sa.Column("scheduled_for", UTCDateTime(), nullable=True),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("signal", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(), nullable=True),
        sa.Column("host", sa.String(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("pgid", sa.Integer(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("template_revision", sa.Integer(), nullable=True),
        sa.Column("template_snapshot", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.String(), nullable=True),
        sa.Column("log_size", sa.Integer(), nullable=False),
        sa.Column("executed_by", sa.String(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["job_schedule_id"], ["job_schedules.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["job_template_id"], ["job_templates.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["retry_of_run_id"], ["job_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_queued", ["queued_at", "id"], unique=False)
        batch_op.create_index(
            "ix_job_runs_schedule_queued", ["job_schedule_id", "queued_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_job_runs_status_queued", ["status", "queued_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_job_runs_template_queued", ["job_template_id", "queued_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_job_runs_trigger_queued", ["triggered_by", "queued_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_job_runs_type_queued", ["job_type", "queued_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_job_runs_occurrence",
            ["job_schedule_id", "scheduled_for"],
            unique=True,
            sqlite_where=sa.text("triggered_by = 'schedule'"),
            postgresql_where=sa.text("triggered_by = 'schedule'"),
        )

    op.create_table(
        "job_run_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("signal", sa.Integer(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(), nullable=True),
        sa.Column("error_message", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["job_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "attempt"),
    )


def downgrade() -> None:
    """Drop what upgrade created."""
    op.drop_table("job_run_attempts")
    op.drop_table("job_runs")
    op.drop_table("job_template_revisions")
    op.drop_table("job_schedules")
    op.drop_table("audit_log")
    op.drop_table("job_templates")
