"""The succession's decisions on a real database: take the lease when nobody holds it (never
when read-only), follow a new owner, say so."""

from __future__ import annotations

from pathlib import Path

from console.succession import Succession
from console.widgets import SessionInfo
from core.backend.fake import FakeBackend
from core.backend.local import LocalBackend
from core.backend.protocol import Backend
from core.clock import SystemClock
from core.jobs.audit import Actor
from core.jobs.scheduler.lease import Lease
from core.settings.config import SchedulerSettings, Settings
from core.storage.database import Database

SCHEDULER = SchedulerSettings(heartbeat_seconds=0.2, lease_ttl_seconds=5)


class Moves:
    """Records what the succession tells the app."""

    def __init__(self) -> None:
        self.seen: list[tuple[Backend, str, str | None]] = []

    def __call__(self, backend: Backend, mode: str, note: str | None) -> None:
        self.seen.append((backend, mode, note))


def session() -> SessionInfo:
    return SessionInfo("starting", "x", True, SystemClock(), SystemClock().now().tzinfo)  # type: ignore[arg-type]


def setup(db: Database, tmp_path: Path, *, read_only: bool) -> tuple[Settings, LocalBackend]:
    settings = Settings(home=tmp_path, timezone="UTC", read_only=read_only, scheduler=SCHEDULER)
    local = LocalBackend(
        db, actor=Actor("t", "tui"), default_zone="UTC", read_only=read_only, scheduler=SCHEDULER
    )
    return settings, local


async def test_a_read_only_console_never_takes_the_lease(
    fresh_sqlite_database: Database, tmp_path: Path
) -> None:
    settings, local = setup(fresh_sqlite_database, tmp_path, read_only=True)
    remote = FakeBackend()  # stands in for the API of the owner that went away
    succession = Succession(settings, local, remote, settled_with="gone-owner", token=None)
    moves = Moves()
    await succession.start(session(), moves)
    try:
        assert [(b, m) for b, m, _ in moves.seen] == [(local, "read-only")]
        note = moves.seen[0][2] or ""
        assert "nobody is scheduling" in note and "read-only" in note
        assert Lease.current(fresh_sqlite_database, SystemClock()) is None
        await succession.look()
        assert len(moves.seen) == 1  # said once
    finally:
        await succession.stop("test over")
        await succession.close()
    assert remote.closed


async def test_the_owner_gone_the_console_takes_over_and_says_so(
    fresh_sqlite_database: Database, tmp_path: Path
) -> None:
    settings, local = setup(fresh_sqlite_database, tmp_path, read_only=False)
    remote = FakeBackend()
    succession = Succession(settings, local, remote, settled_with="gone-owner", token=None)
    moves = Moves()
    await succession.start(session(), moves)
    try:
        assert [(b, m) for b, m, _ in moves.seen] == [(local, "embedded")]
        assert "now owns the database" in (moves.seen[0][2] or "")
        info = Lease.current(fresh_sqlite_database, SystemClock())
        assert info is not None and info.live and succession.owning
        health = await local.owner_health()
        assert health.owner is not None and health.owner.owner_id == info.owner_id
    finally:
        await succession.stop("test over")
        await succession.close()
    assert Lease.current(fresh_sqlite_database, SystemClock()) is None  # released on stop


async def test_a_new_owner_without_an_api_is_followed_on_the_database(
    fresh_sqlite_database: Database, tmp_path: Path
) -> None:
    settings, local = setup(fresh_sqlite_database, tmp_path, read_only=False)
    other = Lease(
        fresh_sqlite_database,
        clock=SystemClock(),
        owner_id="new-owner",
        host="host-b",
        pid=777,
        ttl_seconds=60,
    )
    assert other.try_acquire()
    remote = FakeBackend()
    succession = Succession(settings, local, remote, settled_with="gone-owner", token=None)
    moves = Moves()
    await succession.start(session(), moves)
    try:
        assert [(b, m) for b, m, _ in moves.seen] == [(local, "attached to host-b pid 777")]
        assert not succession.owning
    finally:
        await succession.stop("test over")
        await succession.close()
        other.release()
