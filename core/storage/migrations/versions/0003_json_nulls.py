"""JSON columns store SQL NULL for "no value"; drop an index the unique key already gives.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Nullable JSON columns that earlier versions filled with the JSON text 'null'.
NULLABLE_JSON = {
    "job_templates": ("retention",),
    "job_runs": ("template_snapshot", "result"),
    "audit_log": ("before", "after"),
    "system_state": ("value",),
}


def upgrade() -> None:
    """Turn JSON 'null' into SQL NULL; drop the duplicate occurrences index."""
    bind = op.get_bind()
    cast = "::text" if bind.dialect.name == "postgresql" else ""
    for table, columns in NULLABLE_JSON.items():
        for column in columns:
            op.execute(sa.text(f"UPDATE {table} SET {column} = NULL WHERE {column}{cast} = 'null'"))
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_occurrences_schedule_time")


def downgrade() -> None:
    """Restore the index (NULLs stay NULL: both versions read them the same)."""
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_occurrences_schedule_time", ["schedule_id", "scheduled_for"], unique=False
        )
