"""One screen per module; each keeps its stylesheet beside it.

``SCREENS`` maps each top-level screen (a mode of the app, reached with `:name` or its number
key) to its class.
"""

from console.screens.base import JobdeckScreen
from console.screens.templates import TemplatesScreen

SCREENS: dict[str, type[JobdeckScreen]] = {
    "templates": TemplatesScreen,
}

__all__ = ["SCREENS", "JobdeckScreen", "TemplatesScreen"]
