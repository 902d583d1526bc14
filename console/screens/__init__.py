"""One screen per module; each keeps its stylesheet beside it.

``SCREENS`` maps each top-level screen (a mode of the app, reached with `:name` or its number
key) to its class.
"""

from console.screens.base import JobdeckScreen
from console.screens.runs import RunsScreen
from console.screens.schedules import SchedulesScreen
from console.screens.templates import TemplatesScreen
from console.screens.workers import WorkersScreen

SCREENS: dict[str, type[JobdeckScreen]] = {
    "templates": TemplatesScreen,
    "schedules": SchedulesScreen,
    "runs": RunsScreen,
    "workers": WorkersScreen,
}

__all__ = [
    "SCREENS",
    "JobdeckScreen",
    "RunsScreen",
    "SchedulesScreen",
    "TemplatesScreen",
    "WorkersScreen",
]
