"""The lease row records the owner's last scheduler tick, so every reader can tell a live
owner whose scheduler stalled from one that schedules.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.storage.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``owner_lease.ticked_at`` (nullable: an owner that has not ticked yet)."""
    with op.batch_alter_table("owner_lease", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("owner_lease", schema=None) as batch_op:
        batch_op.drop_column("ticked_at")
