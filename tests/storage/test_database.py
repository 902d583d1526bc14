"""Database: what a plain connection for queries promises (nothing committed, clear errors)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from core.errors import BackendUnavailable
from core.storage.database import Database, sqlite_url
from core.storage.tables import SystemState


def test_a_connection_commits_nothing(database: Database) -> None:
    row = {"key": "probe", "value": 1, "updated_at": datetime.now(UTC)}
    with database.connect() as connection:
        connection.execute(insert(SystemState), row)
        assert connection.execute(select(SystemState.key)).scalars().all() == ["probe"]
    with database.connect() as connection:
        assert connection.execute(select(SystemState.key)).scalars().all() == []


def test_an_unopenable_database_is_backend_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    db = Database(sqlite_url(folder))
    with pytest.raises(BackendUnavailable, match="not-a-file unavailable"), db.connect():
        pass
    db.dispose()
