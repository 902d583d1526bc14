"""Backend-wide switches kept in the system_state table (the maintenance pause)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.storage.tables import SystemState

MAINTENANCE_KEY = "maintenance"


def maintenance(session: Session) -> dict[str, Any] | None:
    """The maintenance switch ({"reason", "since", ...}) or None when the backend runs."""
    state = session.get(SystemState, MAINTENANCE_KEY)
    if state is None or not state.value:
        return None
    value = state.value
    return dict(value) if isinstance(value, dict) else {"reason": str(value)}
