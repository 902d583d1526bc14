"""Snapshots of the templates screen: seeded data, fixed clock, two terminal sizes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from console.app import JobdeckApp


async def data_loaded(pilot: Pilot[int]) -> None:
    """Take the picture only once the table holds the backend's data."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_templates_screen(
    app: JobdeckApp, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app, terminal_size=size, run_before=data_loaded)


def test_templates_screen_with_keys_panel(
    app: JobdeckApp, snap_compare: Callable[..., bool]
) -> None:
    assert snap_compare(
        app, terminal_size=(100, 30), press=["j", "j", "question_mark"], run_before=data_loaded
    )
