"""Reusable widgets: the keyed live table, the status bar and table cells."""

from console.widgets.keyed_table import KeyedTable
from console.widgets.status_bar import Health, SessionInfo, StatusBar

__all__ = ["Health", "KeyedTable", "SessionInfo", "StatusBar"]
