"""The append-only audit log: who did what, from where, with before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.storage.tables import AuditRecord


@dataclass(frozen=True)
class Actor:
    """Who is acting and through which interface (tui, cli, api, ssh, system)."""

    name: str
    source: str

    @classmethod
    def system(cls) -> Actor:
        """jobdeck itself (scheduler, retention)."""
        return cls("jobdeck", "system")


def record(
    session: Session,
    actor: Actor,
    at: datetime,
    action: str,
    target_type: str,
    target_id: int | None,
    target_name: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit record to the caller's transaction, so it commits with the change."""
    session.add(
        AuditRecord(
            at=at,
            actor=actor.name,
            source=actor.source,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_name=target_name,
            before=before,
            after=after,
        )
    )
