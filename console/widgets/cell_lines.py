"""One-line table cells drawn straight to segments, the same segments DataTable would draw.

DataTable draws every cell through Rich's general layout: ``Styled(Padding(cell))`` rendered
by ``Console.render_lines``, which lays the text out, splits it into lines, pads and crops it
twice and restyles every segment on the way (~60 us a cell). Paging the runs table draws a
screenful of new cells per key (33 rows x 8 cells at 120x40), so that layout was most of the
time a page-down took. A cell of a one-line row is a single line of text: it is truncated and
justified with the Text methods Rich itself uses, then padded and styled in one pass.
``tests/console/test_cell_lines.py`` holds both ways of drawing to the same segments for
every cell of real tables, so a Textual or Rich upgrade that changes the picture fails there.
"""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import DEFAULT_JUSTIFY, DEFAULT_OVERFLOW, Text

_NEWLINE = Text("\n")
_NULL = Style()


def simple(cell: object) -> bool:
    """Whether ``cell`` is text this module draws exactly as Rich would (one plain line)."""
    if type(cell) is not Text:
        return False
    text = cell.plain
    return "\n" not in text and "\t" not in text and cell.justify in (None, "left", "right")


def cell_line(
    console: Console, cell: Text, width: int, padding: int, pre: Style, post: Style
) -> list[Segment]:
    """The segments of ``cell`` as DataTable draws it in a one-line row ``width`` cells wide:
    ``padding`` blanks each side, ``pre`` under the cell's own styles, ``post`` over them."""
    inner = max(0, width - 2 * padding)
    justify = cell.justify or DEFAULT_JUSTIFY
    overflow = cell.overflow or DEFAULT_OVERFLOW
    line = cell.copy()
    if justify == "right":  # as rich.containers.Lines.justify does
        line.rstrip()
        line.truncate(inner, overflow=overflow)
        line.pad_left(inner - line.cell_len)
    elif justify == "left":
        line.truncate(inner, overflow=overflow, pad=True)
    line.truncate(inner, overflow=overflow)  # as Text.wrap ends every line
    # Joined as Text.__rich_console__ joins its lines: the cell's style becomes a span.
    segments = list(_NEWLINE.join((line,)).render(console))
    segments = Segment.adjust_line_length(segments, inner, style=_NULL, pad=True)
    if padding:
        blank = Segment(" " * padding, _NULL)
        segments = [blank, *segments, blank]
    return list(Segment.apply_style(segments, style=pre, post_style=post))
