"""Table cells built from data: always rich Text, never markup, coloured by the theme.

Every cell is one line that ends in an ellipsis when its column is too narrow for it. A
status reads without colour too: each has its own glyph, and the failure states are bold
(``failed`` also reversed), so a 16-colour terminal or ``NO_COLOR`` still tells them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.text import Text
from textual.color import Color, ColorParseError


@dataclass(frozen=True)
class Look:
    """How a status is drawn: a glyph before its words, the theme variables its colour may
    come from (the first one no other status of its kind took) and a style beyond colour."""

    glyph: str
    label: str
    colours: tuple[str, ...]
    style: str = ""

    @property
    def text(self) -> str:
        """The glyph and the words, as the cell shows them."""
        return f"{self.glyph} {self.label}"


#: The foreground's shades a greyed-out state may take, the most muted first.
_GREYS = ("-darken-2", "-darken-3", "-darken-1", "")
#: Where a look takes its colour from when every one it names is taken in a theme.
_SPARE_COLOURS = tuple(
    f"{base}{shade}"
    for shade in ("", "-lighten-1", "-darken-1", "-lighten-2", "-darken-2", "-lighten-3")
    for base in ("error", "warning", "success", "primary", "secondary", "accent", "foreground")
)


class Looks:
    """The looks of one kind of status (runs, schedules, workers), by status.

    In a theme each look takes the first of its colours that no look before it took, so no
    two share a colour even where a theme gives two variables the same one.
    """

    def __init__(self, looks: Mapping[str, Look]) -> None:
        self.looks = dict(looks)
        names = [name for look in self.looks.values() for name in look.colours]
        self._names = tuple(dict.fromkeys([*names, *_SPARE_COLOURS]))
        #: the colours chosen, by the theme's values of the variables they may come from
        self._chosen: dict[tuple[str | None, ...], dict[str, str]] = {}

    def __contains__(self, key: object) -> bool:
        return key in self.looks

    def colours(self, theme: Mapping[str, str]) -> dict[str, str]:
        """The colour (a Rich style) of each status in ``theme``."""
        values = (theme.get("background"), *(theme.get(name) for name in self._names))
        chosen = self._chosen.get(values)
        if chosen is None:
            chosen, taken = {}, set()
            for key, look in self.looks.items():
                names = (*look.colours, *_SPARE_COLOURS)
                free = [c for c in (theme_style(theme, n) for n in names) if c and c not in taken]
                # the first that reads on the background; dim, when the theme has no colour
                # left (an ANSI theme has six)
                readable = [c for c in free if _contrast(c, theme.get("background")) >= 3]
                colour = next(iter(readable or free), "dim")
                taken.add(colour)
                chosen[key] = colour
            if len(self._chosen) > 64:
                self._chosen.clear()
            self._chosen[values] = chosen
        return chosen

    def text(self, key: str, theme: Mapping[str, str]) -> Text:
        """``key`` drawn in its look: glyph, words, its own colour in the theme and style."""
        look = self.looks[key]
        return cell(look.text, f"{look.style} {self.colours(theme)[key]}".strip())


def _contrast(colour: str, background: str | None) -> float:
    """The WCAG contrast ratio of a chosen colour on the theme's background (21 when either
    is not a plain colour: an ANSI theme's are the terminal's to make readable)."""
    try:
        if background is None or not colour.startswith("#"):
            return 21.0
        lighter, darker = sorted(
            (_luminance(Color.parse(colour)), _luminance(Color.parse(background))), reverse=True
        )
    except ColorParseError:
        return 21.0
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


#: How each run status is drawn, in the order their colours are chosen (most needed first).
RUN_LOOKS = Looks(
    {
        "failed": Look("✗", "failed", ("text-error", "error"), "bold reverse"),
        "completed": Look("✓", "completed", ("text-success", "success")),
        "running": Look("▶", "running", ("text-primary", "primary", "text-secondary")),
        "timed_out": Look("⏱", "timed out", ("text-warning", "warning", "text-accent"), "bold"),
        "pending": Look("◌", "pending", ("text-secondary", "secondary", "text-accent")),
        "lost": Look("?", "lost", ("text-accent", "accent", "text-secondary", "error"), "bold"),
        "cancelled": Look("⊘", "cancelled", tuple(f"foreground{s}" for s in _GREYS)),
    }
)
#: How a schedule's state is drawn.
SCHEDULE_LOOKS = Looks(
    {
        "active": Look("●", "active", ("text-success", "success")),
        "paused": Look("‖", "paused", ("text-warning", "warning")),
    }
)
#: How a worker's status is drawn (a status not listed here is dimmed).
WORKER_LOOKS = Looks(
    {
        "offline": Look("✗", "offline", ("text-error", "error"), "bold"),
        "running": Look("▶", "running", ("text-success", "success")),
        "paused": Look("‖", "paused", ("text-warning", "warning")),
        "draining": Look("↓", "draining", ("text-accent", "accent", "text-secondary")),
        "stopping": Look("■", "stopping", ("text-secondary", "secondary", "text-primary")),
        "stopped": Look("□", "stopped", tuple(f"foreground{s}" for s in _GREYS)),
        "created": Look("○", "created", ("text-primary", "primary")),
    }
)
MISSING = "—"


def theme_style(theme: Mapping[str, str], variable: str) -> str:
    """A Rich style for a theme colour variable ("" when the theme has no plain colour)."""
    try:
        colour = Color.parse(theme[variable])
    except (KeyError, ColorParseError):
        return ""
    if colour.ansi is not None:  # an ANSI theme: the terminal's own palette
        return "default" if colour.ansi < 0 else f"color({colour.ansi})"
    return colour.hex6


def cell(value: str, style: str = "", *, justify: str = "left") -> Text:
    """One line of literal text that ends in an ellipsis when its column is too narrow."""
    return Text(
        value,
        style=style,
        justify="right" if justify == "right" else "left",
        no_wrap=True,
        overflow="ellipsis",
    )


def plain(value: object, *, justify: str = "left") -> Text:
    """Any value as literal text: ``backup [daily]`` stays exactly that."""
    return cell("" if value is None else str(value), justify=justify)


def muted(value: object) -> Text:
    """Secondary information, dimmed (works on every theme)."""
    return cell(str(value), "dim")


def styled(value: str, theme: Mapping[str, str], variable: str, style: str = "") -> Text:
    """Text in a theme colour, with a style beyond colour (bold, reverse) when given."""
    return cell(value, f"{style} {theme_style(theme, variable)}".strip())


def status(value: str | None, theme: Mapping[str, str]) -> Text:
    """A run status with its glyph, in its own colour; a dash when there is none."""
    if value is None:
        return muted(MISSING)
    if value not in RUN_LOOKS:
        return muted(value)
    return RUN_LOOKS.text(value, theme)


def error(value: str, theme: Mapping[str, str]) -> Text:
    """Something broken, in the theme's error colour."""
    return styled(value, theme, "text-error", "bold")
