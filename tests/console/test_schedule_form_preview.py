"""The fire-time preview widget: columns by width, the viewer's zone only when it adds something."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual.app import App, ComposeResult

from console.widgets.fire_preview import FirePreview
from core.backend.fake import FakeBackend
from core.backend.inputs import ScheduleSpec
from core.backend.views import FireTimeView


class PreviewApp(App[None]):
    """Just the preview, as wide as the terminal."""

    def compose(self) -> ComposeResult:
        yield FirePreview()


async def fires(viewer: str) -> list[FireTimeView]:
    """The next fires of a Riga daily schedule around the spring-forward night."""
    spec = ScheduleSpec(
        job_identifier="p",
        template=0,
        schedule_type="cron",
        cron_expression="30 3 * * *",
        timezone="Europe/Riga",
    )
    return await FakeBackend().preview_timing(spec, 30, viewer_zone=viewer)


def headers(preview: FirePreview) -> list[str]:
    """The column headers the preview renders now."""
    rendered = preview.render()
    assert isinstance(rendered, Group)
    table = rendered.renderables[0]
    assert isinstance(table, Table)
    return [str(column.header) for column in table.columns]


async def test_wide_preview_adds_the_viewers_zone_when_it_differs() -> None:
    app = PreviewApp()
    async with app.run_test(size=(90, 40)) as pilot:
        preview = app.query_one(FirePreview)
        preview.show_fires(await fires("America/New_York"), "Europe/Riga", "America/New_York")
        await pilot.pause()
        assert headers(preview) == ["#", "Local (Europe/Riga)", "UTC", "America/New_York", "DST"]
        assert [f.dst for f in preview.flagged] == ["gap"]
        preview.show_fires(await fires("Etc/UTC"), "Europe/Riga", "Etc/UTC")
        await pilot.pause()
        assert headers(preview) == ["#", "Local (Europe/Riga)", "UTC", "DST"]


async def test_narrow_preview_keeps_local_utc_and_the_flag() -> None:
    app = PreviewApp()
    async with app.run_test(size=(40, 40)) as pilot:
        preview = app.query_one(FirePreview)
        preview.show_fires(await fires("America/New_York"), "Europe/Riga", "America/New_York")
        await pilot.pause()
        assert headers(preview) == ["#", "Local", "UTC", "DST"]
        preview.show_problem("No preview: Cron: is required")
        await pilot.pause()
        assert preview.fires == () and str(preview.render()) == "No preview: Cron: is required"
