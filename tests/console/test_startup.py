"""The console paints before its backend is open, then opens it, then starts the owner."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from textual.widgets import Label

from console.app import JobdeckApp
from console.pending_backend import PendingBackend
from console.screens.runs import WINDOW
from console.startup import Connection
from core.backend.fake import FakeBackend
from core.backend.inputs import RunQuery
from core.backend.protocol import Backend, Capabilities
from core.clock import ManualClock
from core.errors import BackendUnavailable

from .conftest import settled

SIZE = (120, 30)


class GatedOpen:
    """A ``connect`` that opens ``backend`` only when the test lets it."""

    def __init__(self, backend: Backend, owner: object | None = None) -> None:
        self.backend = backend
        self.owner = owner
        self.called = asyncio.Event()
        self.gate = asyncio.Event()
        self.error: Exception | None = None
        self.warnings: list[str] = []

    async def __call__(self, warn: object) -> Connection:
        self.called.set()
        assert callable(warn)
        warn("the owner's API did not answer; using the database directly")
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return Connection(self.backend, "embedded", self.owner)  # type: ignore[arg-type]


class RecordingOwner:
    """Stands in for the embedded owner: records whether the runs were on screen at start."""

    def __init__(self, app: list[JobdeckApp]) -> None:
        self.app = app
        self.rows_at_start: int | None = None
        self.active_runs = 0

    async def start(self, session: object, switch: object = None) -> None:
        table = self.app[0].screen.query_one("#runs-table")
        self.rows_at_start = table.row_count  # type: ignore[attr-defined]

    async def stop(self, reason: str) -> None:
        """Nothing runs here."""

    async def close(self) -> None:
        """Nothing to close."""


def _app(clock: ManualClock, connect: GatedOpen) -> JobdeckApp:
    pending = PendingBackend(Capabilities(name="opening the database…"))
    return JobdeckApp(
        cast(Backend, pending), clock, mode="starting", start_screen="runs", connect=connect
    )


async def test_paints_before_the_backend_opens_then_fills(clock: ManualClock) -> None:
    connect = GatedOpen(FakeBackend.seeded(clock))
    app = _app(clock, connect)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(connect.called.wait(), 5)
        await pilot.pause()

        def label(name: str) -> str:
            return str(app.screen.query_one(f"#status-{name}", Label).render())

        assert (label("mode"), label("backend")) == ("starting", "opening the database…")
        table = app.screen.query_one("#runs-table")
        assert table.row_count == 0 and table.loading  # type: ignore[attr-defined]

        connect.gate.set()
        await settled(pilot)
        assert (label("mode"), label("backend")) == ("embedded", "fake")
        assert table.row_count == WINDOW  # type: ignore[attr-defined]
        assert app.connection is not None and app.connection.backend is connect.backend
        # what opening warned about reaches the operator
        messages = [n.message for n in app._notifications]
        assert any("did not answer" in message for message in messages)


async def test_a_backend_that_fails_to_open_ends_the_app_with_its_error(
    clock: ManualClock,
) -> None:
    connect = GatedOpen(FakeBackend.seeded(clock))
    connect.error = BackendUnavailable("cannot open the database sqlite:///x.db: disk I/O error")
    app = _app(clock, connect)
    async with app.run_test(size=SIZE) as pilot:
        connect.gate.set()
        await pilot.pause(0.2)
    assert app.return_code == 1
    assert app.startup_error is connect.error
    assert app.connection is None


async def test_the_owner_starts_once_the_first_screen_has_its_rows(clock: ManualClock) -> None:
    apps: list[JobdeckApp] = []
    owner = RecordingOwner(apps)
    connect = GatedOpen(FakeBackend.seeded(clock), owner)
    app = _app(clock, connect)
    apps.append(app)
    async with app.run_test(size=SIZE) as pilot:
        connect.gate.set()
        await settled(pilot)
        await pilot.pause(0.1)
    assert owner.rows_at_start == WINDOW


async def test_pending_backend_calls_wait_for_the_backend(clock: ManualClock) -> None:
    real = FakeBackend.seeded(clock)
    pending = PendingBackend(Capabilities(name="opening…", writable=False))
    assert pending.capabilities.name == "opening…" and not pending.capabilities.writable

    call = asyncio.ensure_future(pending.list_runs(RunQuery(limit=5)))
    await asyncio.sleep(0.01)
    assert not call.done()  # waits for the backend

    pending.resolve(real)
    page = await asyncio.wait_for(call, 5)
    assert len(page.items) == 5
    assert pending.capabilities is real.capabilities
    assert pending.list_runs == real.list_runs  # once open, calls go straight through


async def test_pending_backend_raises_what_opening_raised() -> None:
    pending = PendingBackend(Capabilities(name="opening…"))
    call = asyncio.ensure_future(pending.list_templates())
    await asyncio.sleep(0)
    pending.fail(BackendUnavailable("database down"))
    with pytest.raises(BackendUnavailable, match="database down"):
        await call
    with pytest.raises(BackendUnavailable):
        await pending.get_run(1)
    with pytest.raises(AttributeError):
        pending.no_such_method  # noqa: B018 - only protocol methods are forwarded
