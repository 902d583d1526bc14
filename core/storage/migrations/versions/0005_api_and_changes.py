"""API tokens, idempotency keys, and the change feed fed by triggers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.storage.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (trigger name, table, kind, operation, UPDATE OF columns, WHEN condition on OLD/NEW)
#: Scheduled run inserts are not listed: the occurrence row written in the same transaction
#: announces them (the burst path writes one change per occurrence, not two).
WATCHED: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("jd_chg_template_ins", "job_templates", "template", "INSERT", "", ""),
    ("jd_chg_template_upd", "job_templates", "template", "UPDATE", "", ""),
    ("jd_chg_template_del", "job_templates", "template", "DELETE", "", ""),
    ("jd_chg_schedule_ins", "job_schedules", "schedule", "INSERT", "", ""),
    (
        "jd_chg_schedule_upd",
        "job_schedules",
        "schedule",
        "UPDATE",
        "updated_at, is_active, paused_at",
        "OLD.updated_at IS DISTINCT FROM NEW.updated_at"
        " OR OLD.is_active IS DISTINCT FROM NEW.is_active"
        " OR OLD.paused_at IS DISTINCT FROM NEW.paused_at",
    ),
    ("jd_chg_schedule_del", "job_schedules", "schedule", "DELETE", "", ""),
    ("jd_chg_run_ins", "job_runs", "run", "INSERT", "", "NEW.triggered_by <> 'schedule'"),
    (
        "jd_chg_run_upd",
        "job_runs",
        "run",
        "UPDATE",
        "status, attempts, worker, cancel_requested",
        "OLD.status IS DISTINCT FROM NEW.status"
        " OR OLD.attempts IS DISTINCT FROM NEW.attempts"
        " OR OLD.worker IS DISTINCT FROM NEW.worker"
        " OR OLD.cancel_requested IS DISTINCT FROM NEW.cancel_requested",
    ),
    ("jd_chg_run_del", "job_runs", "run", "DELETE", "", ""),
    ("jd_chg_worker_ins", "workers", "worker", "INSERT", "", ""),
    (
        "jd_chg_worker_upd",
        "workers",
        "worker",
        "UPDATE",
        "status, slots, active, processed, failed, paused, draining",
        "OLD.status IS DISTINCT FROM NEW.status OR OLD.slots IS DISTINCT FROM NEW.slots"
        " OR OLD.active IS DISTINCT FROM NEW.active"
        " OR OLD.processed IS DISTINCT FROM NEW.processed"
        " OR OLD.failed IS DISTINCT FROM NEW.failed"
        " OR OLD.paused IS DISTINCT FROM NEW.paused"
        " OR OLD.draining IS DISTINCT FROM NEW.draining",
    ),
    ("jd_chg_worker_del", "workers", "worker", "DELETE", "", ""),
    ("jd_chg_occurrence_ins", "occurrences", "occurrence", "INSERT", "", ""),
)

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION jobdeck_record_change() RETURNS trigger AS $$
BEGIN
    INSERT INTO changes (at, kind, op, ref_id) VALUES (
        extract(epoch from clock_timestamp()),
        TG_ARGV[0],
        lower(TG_OP),
        CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END
    );
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def _sqlite_trigger(
    name: str, table: str, kind: str, operation: str, columns: str, when: str
) -> str:
    row = "OLD" if operation == "DELETE" else "NEW"
    event = f"UPDATE OF {columns}" if columns else operation
    # SQLite spells IS DISTINCT FROM as IS NOT.
    condition = f" WHEN {when.replace('IS DISTINCT FROM', 'IS NOT')}" if when else ""
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} BEGIN "
        "INSERT INTO changes (at, kind, op, ref_id) VALUES ("
        "(julianday('now') - 2440587.5) * 86400.0, "
        f"'{kind}', '{operation.lower()}', {row}.id); END"
    )


def _postgres_trigger(
    name: str, table: str, kind: str, operation: str, columns: str, when: str
) -> str:
    event = f"UPDATE OF {columns}" if columns else operation
    condition = f" WHEN ({when})" if when else ""
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} "
        f"EXECUTE FUNCTION jobdeck_record_change('{kind}')"
    )


def upgrade() -> None:
    """Create the tables, then the triggers that feed ``changes``."""
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_api_tokens_name", ["name"], unique=True)
        batch_op.create_index("ix_api_tokens_token_hash", ["token_hash"], unique=True)
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_created_at", ["created_at"], unique=False)
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for spec in WATCHED:
            op.execute(_postgres_trigger(*spec))
    else:
        for spec in WATCHED:
            op.execute(_sqlite_trigger(*spec))


def downgrade() -> None:
    """Drop the triggers and the tables."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table, *_ in WATCHED:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS jobdeck_record_change()")
    op.drop_table("changes")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_created_at")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_api_tokens_token_hash")
        batch_op.drop_index("ix_api_tokens_name")
    op.drop_table("api_tokens")
