"""ChangedLinesOnly: which cells of a line differ, as the terminal sees them."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from console.widgets.changed_lines import cells_of, changed_span

PLAIN = Style(color="white")


def line(text: str, style: Style = PLAIN, **meta: object) -> Strip:
    """A one-segment line."""
    return Strip([Segment(text, style + Style.from_meta(meta) if meta else style)])


def test_the_span_runs_from_the_first_to_the_last_differing_cell() -> None:
    before = cells_of(line("line 1234 at 10:00:01 ERROR-34     "))
    after = cells_of(line("line 1299 at 10:00:01 ERROR-99     "))
    assert changed_span(before, after) == (7, 30)


def test_the_same_cells_are_no_change_whatever_their_meta() -> None:
    # Meta (where a click lands) is not drawn: equal cells send nothing.
    assert changed_span(cells_of(line("abc", row=1)), cells_of(line("abc", row=2))) is None


def test_a_change_of_style_alone_is_a_change() -> None:
    bold = Style(color="white", bold=True)
    assert changed_span(cells_of(line("abc")), cells_of(line("abc", bold))) == (0, 3)


def test_a_shorter_line_clears_what_the_longer_one_drew() -> None:
    assert changed_span(cells_of(line("abcdef")), cells_of(line("abc"))) == (3, 6)


def test_a_wide_character_is_repainted_whole() -> None:
    before, after = cells_of(line("a語b")), cells_of(line("a誤b"))
    assert len(before) == 4  # the wide character takes two cells
    assert changed_span(before, after) == (1, 3)
