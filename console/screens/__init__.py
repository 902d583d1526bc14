"""One screen per module; each keeps its stylesheet beside it.

``SCREENS`` names each top-level screen (a mode of the app, reached with `:name` or its number
key) and the module holding it. A screen's module is imported when the screen is first shown,
so the console paints its start screen without importing the other three (and their forms).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.screens.base import JobdeckScreen

#: mode name → "module:class" of its screen
SCREENS: dict[str, str] = {
    "templates": "console.screens.templates:TemplatesScreen",
    "schedules": "console.screens.schedules:SchedulesScreen",
    "runs": "console.screens.runs:RunsScreen",
    "workers": "console.screens.workers:WorkersScreen",
}


def screen_class(name: str) -> type[JobdeckScreen]:
    """The class of the top-level screen ``name`` (imported now if it was not yet)."""
    module, _, attribute = SCREENS[name].partition(":")
    cls: type[JobdeckScreen] = getattr(import_module(module), attribute)
    return cls


def load_all_screens() -> None:
    """Import every top-level screen (to list every binding id, e.g. for [keymap] checks)."""
    for name in SCREENS:
        screen_class(name)


def __getattr__(name: str) -> Any:
    # `from console.screens import RunsScreen` still works, importing on first use.
    for mode, path in SCREENS.items():
        if path.endswith(f":{name}"):
            return screen_class(mode)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SCREENS", "load_all_screens", "screen_class"]
