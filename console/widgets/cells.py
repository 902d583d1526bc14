"""Table cells built from data: always rich Text, never markup, coloured by the theme."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.color import Color, ColorParseError

#: The theme variable each run status is drawn in.
STATUS_COLOURS = {
    "pending": "text-warning",
    "running": "text-accent",
    "completed": "text-success",
    "failed": "text-error",
    "timed_out": "text-error",
    "lost": "text-error",
}
MISSING = "—"


def theme_style(theme: Mapping[str, str], variable: str) -> str:
    """A Rich style for a theme colour variable ("" when the theme has no plain colour)."""
    try:
        return Color.parse(theme[variable]).hex6
    except (KeyError, ColorParseError):
        return ""


def plain(value: object, *, justify: str = "left") -> Text:
    """Any value as literal text: ``backup [daily]`` stays exactly that."""
    text = Text("" if value is None else str(value))
    text.justify = "right" if justify == "right" else "left"
    return text


def muted(value: object) -> Text:
    """Secondary information, dimmed (works on every theme)."""
    return Text(str(value), style="dim")


def status(value: str | None, theme: Mapping[str, str]) -> Text:
    """A run status in its theme colour; a dash when there is none."""
    if value is None:
        return muted(MISSING)
    if value not in STATUS_COLOURS:
        return muted(value)
    return Text(value, style=theme_style(theme, STATUS_COLOURS[value]))


def error(value: str, theme: Mapping[str, str]) -> Text:
    """Something broken, in the theme's error colour."""
    return Text(value, style=f"bold {theme_style(theme, 'text-error')}".strip())
