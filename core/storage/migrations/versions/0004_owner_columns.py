"""Columns the owner needs: run claim timing, cancel reasons, owner ids, pause and drain state.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.storage.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns; every one is nullable or has a default, so old rows stay valid."""
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("not_before", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lateness_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("job_schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("draining", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("owner_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop the added columns."""
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_column("owner_id")
        batch_op.drop_column("draining")
    with op.batch_alter_table("job_schedules", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("owner_id")
        batch_op.drop_column("lateness_seconds")
        batch_op.drop_column("not_before")
        batch_op.drop_column("cancel_reason")
