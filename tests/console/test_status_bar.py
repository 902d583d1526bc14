"""The status line tells the truth about scheduling: live only while the owner renews its lease
and ticks, a warning when it is late, an error when nobody schedules; it always fits."""

from __future__ import annotations

from datetime import timedelta

from textual.pilot import Pilot
from textual.widgets import Label

from console.app import JobdeckApp
from console.owner_watch import read_owner
from console.widgets import StatusBar
from core.backend.fake import FakeBackend
from core.backend.views import OwnerView
from core.clock import ManualClock

from .conftest import settled

SIZE = (120, 30)


def owner(clock: ManualClock, *, renewed: float = 0, ticked: float | None = 2) -> OwnerView:
    """pid 4321 on host-a with the default 20 s lease: renewed and ticked seconds ago."""
    now = clock.now()
    beat = now - timedelta(seconds=renewed)
    return OwnerView(
        owner_id="a1",
        host="host-a",
        pid=4321,
        api_address=None,
        acquired_at=now - timedelta(minutes=5),
        heartbeat_at=beat,
        expires_at=beat + timedelta(seconds=20),
        ticked_at=None if ticked is None else now - timedelta(seconds=ticked),
    )


def drawn(app: JobdeckApp, name: str) -> str:
    """What the status bar's part ``name`` shows on screen (cut to its width)."""
    label = app.screen.query_one(f"#status-{name}", Label)
    return "".join(segment.text for segment in label.render_line(0)).strip()


async def show(pilot: Pilot[int], app: JobdeckApp, backend: FakeBackend) -> str:
    """Read the owner's health as the app's watcher does, redraw the bar, its health text."""
    await read_owner(app.session, backend)
    app.screen.query_one(StatusBar).tick()
    await pilot.pause()
    return str(app.screen.query_one("#status-health", Label).render())


def level(app: JobdeckApp) -> str:
    health = app.screen.query_one("#status-health", Label)
    return (
        "error"
        if health.has_class("-stale")
        else "warning"
        if health.has_class("-warning")
        else "ok"
    )


async def test_live_shows_the_last_tick_and_ages_it_between_reads(clock: ManualClock) -> None:
    backend = FakeBackend.seeded(clock)
    backend.owner = owner(clock, ticked=2)
    app = JobdeckApp(backend, clock, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        assert await show(pilot, app, backend) == "● live · tick 2s ago"
        assert level(app) == "ok"
        clock.advance(3)  # no read meanwhile: the bar ages what it knows
        app.screen.query_one(StatusBar).tick()
        assert str(app.screen.query_one("#status-health", Label).render()) == "● live · tick 5s ago"


async def test_late_unrenewed_troubled_and_nobody(clock: ManualClock) -> None:
    backend = FakeBackend.seeded(clock)
    app = JobdeckApp(backend, clock, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        # renewed, but the scheduler has not ticked for longer than 3 heartbeats (15 s)
        backend.owner = owner(clock, ticked=31)
        assert await show(pilot, app, backend) == "⚠ owner late: no tick for 31s"
        assert level(app) == "warning"
        # the lease not renewed for more than 2 heartbeats (10 s), not lapsed yet
        backend.owner = owner(clock, renewed=12, ticked=12)
        assert await show(pilot, app, backend) == "⚠ lease not renewed for 12s"
        assert level(app) == "warning"
        # the owner frozen: no answer changes, its lease lapses by the console's clock
        clock.advance(9)
        app.screen.query_one(StatusBar).tick()
        assert str(app.screen.query_one("#status-health", Label).render()) == (
            "✗ nobody is scheduling"
        )
        assert level(app) == "error"
        backend.owner = owner(clock)
        backend.owner_problem = "database unwritable: disk I/O error"
        assert await show(pilot, app, backend) == "⚠ database unwritable: disk I/O error"
        assert level(app) == "warning"
        backend.owner, backend.owner_problem, backend.owner_alive = None, None, False
        assert await show(pilot, app, backend) == "✗ nobody is scheduling"
        assert level(app) == "error"


async def test_thresholds_follow_the_heartbeat_setting(clock: ManualClock) -> None:
    backend = FakeBackend.seeded(clock)
    backend.scheduler_settings = backend.scheduler_settings.model_copy(
        update={"heartbeat_seconds": 1.0}
    )
    backend.owner = owner(clock, ticked=4)  # 4 s is late for a 1 s heartbeat (3 s)
    app = JobdeckApp(backend, clock, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        assert await show(pilot, app, backend) == "⚠ owner late: no tick for 4s"


async def test_the_app_reads_the_owner_while_it_runs(clock: ManualClock) -> None:
    backend = FakeBackend.seeded(clock)
    backend.owner = owner(clock, ticked=1)
    app = JobdeckApp(backend, clock, poll_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        for _ in range(100):
            if app.session.owner is not None:
                break
            await pilot.pause(0.05)
        app.screen.query_one(StatusBar).tick()
        assert str(app.screen.query_one("#status-health", Label).render()) == "● live · tick 1s ago"


async def test_long_words_are_cut_with_an_ellipsis_and_the_clock_stays(
    clock: ManualClock,
) -> None:
    backend = FakeBackend.seeded(clock)
    app = JobdeckApp(
        backend, clock, poll_seconds=None, mode="attached to vm pid 19643 (http://127.0.0.1:40161)"
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        health = app.session.health
        health.state = "stale"
        health.detail = "the jobdeck daemon at http://127.0.0.1:40161 is unreachable: refused"
        bar = app.screen.query_one(StatusBar)
        bar.tick()
        await pilot.pause()
        clock_label = app.screen.query_one("#status-clock", Label)
        assert drawn(app, "clock") == "2026-03-02 09:30:00 UTC"
        assert clock_label.region.right == 80
        assert drawn(app, "health").startswith("✗ unreachable: the jobdeck")
        assert drawn(app, "health").endswith("…")
        assert drawn(app, "mode").startswith("attached to vm") and drawn(app, "mode").endswith("…")
        parts = [app.screen.query_one(f"#status-{n}", Label) for n in ("mode", "health")]
        assert all(part.region.right <= clock_label.region.x for part in parts)


async def test_an_owner_api_that_hangs_is_passed_over_for_the_database(
    clock: ManualClock,
) -> None:
    """Attached to a frozen owner, its API never answers: the database's word is taken."""
    import asyncio

    from console.widgets import SessionInfo

    class Frozen(FakeBackend):
        async def owner_health(self):  # type: ignore[no-untyped-def]
            await asyncio.Event().wait()

    database = FakeBackend(clock=clock)
    database.owner = owner(clock, renewed=12, ticked=12)
    session = SessionInfo("attached", "x", True, clock, clock.now().tzinfo)  # type: ignore[arg-type]
    await asyncio.wait_for(read_owner(session, Frozen(clock=clock), database, seconds=0.1), 5)
    assert session.owner is not None and session.owner.verdict().state == "unrenewed"
