"""Pilot tests of the app and the templates screen over the seeded fake backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label

from console.app import JobdeckApp
from console.screens import TemplatesScreen
from console.widgets import KeyedTable
from core.backend.fake import FakeBackend
from core.backend.inputs import TemplatePatch, TemplateSpec
from core.clock import ManualClock
from core.errors import BackendUnavailable

#: the `loaded_table` fixture: await it with the pilot to get the loaded table
TableLoader = Callable[[Pilot[int]], Awaitable[KeyedTable]]
SIZE = (120, 30)
#: The binding ids of the write actions (hidden in read-only mode).
WRITE_IDS = ("new", "edit", "copy", "delete", "run")


def row_texts(table: KeyedTable, key: str) -> list[str]:
    """The plain text of every cell in a row."""
    return [cell.plain for cell in table.get_row(key)]


async def test_table_lists_every_template_in_name_order(
    app: JobdeckApp, backend: FakeBackend, loaded_table: TableLoader
) -> None:
    templates = await backend.list_templates()
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        assert isinstance(app.screen, TemplatesScreen)
        assert table.keys_in_order == [str(t.id) for t in templates]
        assert table.border_title == "Templates (8)"
        rows = {row_texts(table, key)[0]: row_texts(table, key) for key in table.keys_in_order}
    assert rows["backup [daily]"] == [
        "backup [daily]",
        "shell",
        "2",
        "◌ pending",
        "db, backup",
        "Dump the app database to /backups",
    ]
    assert rows["legacy-inventory"][1:4] == ["✗ ansible", "0", "✗ failed"]
    assert rows["legacy-inventory"][5] == "job type 'ansible' is not installed"
    assert rows["cleanup-tmp"][3] == "✓ completed"


async def test_markup_in_names_is_shown_literally(
    app: JobdeckApp, backend: FakeBackend, loaded_table: TableLoader
) -> None:
    await backend.create_template(
        TemplateSpec(name="[bold]x[/bold] [red]", job_type="shell", config={"command": "true"})
    )
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        name_cells = [table.get_row(key)[0] for key in table.keys_in_order]
    assert "[bold]x[/bold] [red]" in [cell.plain for cell in name_cells]
    assert all(not cell.spans for cell in name_cells)


async def test_vim_keys_move_the_cursor(app: JobdeckApp, loaded_table: TableLoader) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        keys = table.keys_in_order
        assert table.highlighted_key == keys[0]
        await pilot.press("j", "j", "j", "k")
        assert (table.cursor_row, table.highlighted_key) == (2, keys[2])
        await pilot.press("G")
        assert table.highlighted_key == keys[-1]
        await pilot.press("j")
        assert table.highlighted_key == keys[-1]
        await pilot.press("g")
        assert table.highlighted_key == keys[0]


async def test_refresh_diffs_changes_in_and_keeps_the_cursor_on_its_template(
    app: JobdeckApp, backend: FakeBackend, loaded_table: TableLoader
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        crm = await backend.get_template("crm-sync")
        await pilot.press("j", "j", "j")
        assert table.highlighted_key == str(crm.id)
        added = await backend.create_template(
            TemplateSpec(name="aaa-first", job_type="shell", config={"command": "true"})
        )
        removed = await backend.delete_template("weekly-report", force=True)
        await backend.update_template("docs-mirror", TemplatePatch(tags=("docs", "public")))
        unchanged = table.get_row(str(crm.id))
        await pilot.press("r")
        await loaded_table(pilot)
        names = [row_texts(table, key)[0] for key in table.keys_in_order]
        assert names[:2] == ["aaa-first", "api-healthcheck"]
        assert removed.name not in names
        assert str(added.id) in table.keys_in_order
        docs = await backend.get_template("docs-mirror")
        assert row_texts(table, str(docs.id))[4] == "docs, public"
        assert table.highlighted_key == str(crm.id)
        assert table.get_row(str(crm.id)) == unchanged


async def test_keymap_rebinds_by_binding_id(
    backend: FakeBackend, clock: ManualClock, loaded_table: TableLoader
) -> None:
    app = JobdeckApp(backend, clock, keymap={"templates.refresh": "f5"}, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        await backend.create_template(
            TemplateSpec(name="zz-new", job_type="shell", config={"command": "true"})
        )
        await pilot.press("r")
        await loaded_table(pilot)
        assert table.row_count == 8
        await pilot.press("f5")
        await loaded_table(pilot)
        assert table.row_count == 9


async def test_question_mark_lists_the_template_keys_even_greyed_ones(
    app: JobdeckApp, loaded_table: TableLoader
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await loaded_table(pilot)
        await pilot.press("question_mark")
        keys = app.screen.query_one(DataTable)
        ids = {str(keys.get_row_at(row)[3]) for row in range(keys.row_count)}
        await pilot.press("question_mark")
        assert isinstance(app.screen, TemplatesScreen)
    assert {f"templates.{name}" for name in (*WRITE_IDS, "filter", "refresh")} <= ids


async def test_q_quits_cleanly(app: JobdeckApp, loaded_table: TableLoader) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await loaded_table(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_status_bar_shows_mode_backend_and_ticking_clock(
    app: JobdeckApp, clock: ManualClock, loaded_table: TableLoader
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await loaded_table(pilot)

        def label(name: str) -> str:
            return str(app.screen.query_one(f"#status-{name}", Label).render())

        assert (label("mode"), label("backend")) == ("embedded", "fake")
        assert label("clock") == "2026-03-02 09:30:00 UTC"
        assert not app.screen.query_one("#status-read-only").display
        clock.advance(timedelta(minutes=1, seconds=5))
        await pilot.pause(1.2)
        assert label("clock") == "2026-03-02 09:31:05 UTC"


async def test_read_only_backend_is_flagged(clock: ManualClock, loaded_table: TableLoader) -> None:
    app = JobdeckApp(FakeBackend.seeded(clock, read_only=True), clock, zone="Europe/Riga")
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        assert table.row_count == 8
        read_only = app.screen.query_one("#status-read-only", Label)
        assert read_only.display and str(read_only.render()) == "read-only"
        clock_text = str(app.screen.query_one("#status-clock", Label).render())
        assert clock_text == "2026-03-02 11:30:00 EET"


class UnreachableBackend(FakeBackend):
    """A backend whose database went away."""

    async def list_templates(self, **filters: object) -> list:  # type: ignore[override]
        raise BackendUnavailable("database sqlite:///gone.db unavailable: disk I/O error")


async def test_backend_failure_is_a_notification_not_a_crash(
    clock: ManualClock, loaded_table: TableLoader
) -> None:
    app = JobdeckApp(UnreachableBackend(clock=clock), clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await loaded_table(pilot)
        assert app.is_running
        assert (table.row_count, table.loading) == (0, False)
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]
    assert len(toasts) == 1
    assert "Templates not loaded" in toasts[0]
    assert "database sqlite:///gone.db unavailable: disk I/O error" in toasts[0]


def footer_keys(app: JobdeckApp) -> dict[str, bool]:
    """Each key of the screen's bindings that is shown, with whether it is enabled."""
    return {key: active.enabled for key, active in app.screen.active_bindings.items()}


async def test_slash_filters_by_name_type_tag_and_description(
    app: JobdeckApp, loaded_table: TableLoader
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        await pilot.press("slash")
        field = app.screen.query_one("#templates-filter", Input)
        bar = app.screen.query_one("#templates-filter-bar")
        assert bar.display and app.focused is field
        await pilot.press(*"monitoring")
        assert [row_texts(table, key)[0] for key in table.keys_in_order] == [
            "api-healthcheck",
            "status-page-ping",
        ]
        assert table.border_title == "Templates (2/8)"
        await pilot.press("ctrl+u", *"python crm")  # every word must match somewhere
        assert [row_texts(table, key)[0] for key in table.keys_in_order] == ["crm-sync"]
        await pilot.press("ctrl+u", *"WEEK-OLD")  # a description word, any case
        assert [row_texts(table, key)[0] for key in table.keys_in_order] == ["cleanup-tmp"]
        await pilot.press("enter")
        assert app.focused is table and table.row_count == 1 and bar.display
        await pilot.press("escape")
        assert (table.row_count, table.border_title) == (8, "Templates (8)")
        assert not bar.display and app.focused is table and field.value == ""


async def test_a_filter_matching_nothing_greys_the_row_actions(
    app: JobdeckApp, loaded_table: TableLoader
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        assert all(footer_keys(app)[key] for key in "necdx")
        await pilot.press("slash", *"no-such-template", "enter")
        assert table.row_count == 0
        keys = footer_keys(app)
        assert keys["n"] and not any(keys[key] for key in "ecdx")
        await pilot.press("e", "x", "d", "c")
        await pilot.pause()
        assert isinstance(app.screen, TemplatesScreen)


async def test_a_broken_template_is_listed_but_cannot_be_run_or_copied(
    app: JobdeckApp, backend: FakeBackend, loaded_table: TableLoader
) -> None:
    broken = await backend.get_template("legacy-inventory")
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        await pilot.press(*["j"] * table.keys_in_order.index(str(broken.id)))
        assert table.highlighted_key == str(broken.id)
        keys = footer_keys(app)
        assert (keys["x"], keys["c"], keys["e"], keys["d"]) == (False, False, True, True)


async def test_read_only_hides_every_write_action(
    clock: ManualClock, loaded_table: TableLoader
) -> None:
    backend = FakeBackend.seeded(clock, read_only=True)
    app = JobdeckApp(backend, clock, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        keys = footer_keys(app)
        assert not {"n", "e", "c", "d", "x"} & set(keys)
        assert {"slash", "r"} <= set(keys)
        await pilot.press("n", "e", "enter", "x", "d")
        await pilot.pause()
        assert isinstance(app.screen, TemplatesScreen) and table.row_count == 8


async def test_an_empty_backend_says_how_to_create_the_first_template(
    clock: ManualClock, loaded_table: TableLoader
) -> None:
    app = JobdeckApp(FakeBackend(clock=clock), clock, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded_table(pilot)
        assert (table.border_title, table.border_subtitle) == (
            "Templates (0)",
            "no templates yet: n creates one",
        )
        keys = footer_keys(app)
        assert keys["n"] and not any(keys[key] for key in "ecdx")
