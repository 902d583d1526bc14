"""The TUI attached to a daemon: the daemon goes away (stale), comes back (reattached, told
what ended meanwhile), without restarting the TUI."""

from __future__ import annotations

import time
from typing import Any

import pytest

from console.app import JobdeckApp
from core.backend.inputs import TemplateSpec
from core.storage.tables import JobRun

from .conftest import Live
from .server import live_api

pytestmark = pytest.mark.slow


async def wait_for(pilot: Any, check: Any, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds}s")
        await pilot.pause(0.05)


async def test_the_tui_survives_a_daemon_restart(live: Live) -> None:
    template = await live.local.create_template(
        TemplateSpec(name="hello", job_type="shell", config={"command": "true"})
    )
    run = await live.local.run_template(template.id)
    port = int(live.address.rsplit(":", 1)[1])
    remote = await live.connect(live_wait_seconds=1.0)
    app = JobdeckApp(remote, mode=f"attached to {live.address}", poll_seconds=0.1)
    notes: list[tuple[str, str]] = []
    notify = app.notify

    def record(message: str, *, title: str = "", **options: Any) -> None:
        notes.append((title, message))
        notify(message, title=title, **options)

    app.notify = record  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app._cursor is not None)
            assert app.session.health.ok
            await live.server.stop()
            await wait_for(pilot, lambda: not app.session.health.ok)
            assert any(title.startswith("Backend unreachable") for title, _ in notes)
            with live.db.write() as session:  # the run ends while the TUI cannot see it
                row = session.get(JobRun, run.id)
                assert row is not None
                row.status, row.completed_at = "completed", live.clock.now()
                session.add(row)
            async with live_api(live.local, live.db, live.clock, port=port):
                await wait_for(pilot, lambda: any(t.startswith("Reconnected") for t, _ in notes))
                assert app.session.health.ok
                # The console may be back through GET /api/changes before the event stream's
                # backoff has reconnected it; the stream comes back too.
                await wait_for(pilot, lambda: remote.feed.connections >= 2)
                back = [message for title, message in notes if title.startswith("Reconnected")]
                assert "1 completed" in back[-1]
                await pilot.press("q")
    finally:
        await remote.close()
