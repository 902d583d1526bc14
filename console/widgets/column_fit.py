"""Column widths that fit a table into the terminal: the widest columns give way first.

A table wider than its terminal used to run off the right edge, cutting its last visible
column mid-word (``every 7``) and hiding the ones after it. Here the widest columns are
narrowed, all to the same width, until the table fits; their cells end in ``…`` (the cells
are made to, see ``cells.cell``). A column never goes below ``FLOOR`` (or its own width), and
a column kept whole (a status) is not narrowed at all.
"""

from __future__ import annotations

from collections.abc import Sequence

#: No column is narrowed below this many cells (a few letters and the `…`).
FLOOR = 4


def fitted_widths(
    natural: Sequence[int], room: int, whole: Sequence[bool] | None = None
) -> list[int]:
    """The widths of columns whose content is ``natural`` wide, fitted into ``room`` cells:
    every column wider than some level is cut to it (the leftover cells go to the leftmost
    of them), but those marked ``whole``. When even the floors do not fit, the floors."""
    if sum(natural) <= room:
        return list(natural)
    kept = whole or [False] * len(natural)
    floors = [w if keep else min(w, FLOOR) for w, keep in zip(natural, kept, strict=True)]

    def total(level: int) -> int:
        return sum(max(low, min(width, level)) for width, low in zip(natural, floors, strict=True))

    low, high = 0, max(natural)  # total(low) may not fit; total(high) does not
    while high - low > 1:
        level = (low + high) // 2
        if total(level) <= room:
            low = level
        else:
            high = level
    widths = [max(f, min(width, low)) for width, f in zip(natural, floors, strict=True)]
    spare = room - sum(widths)
    for index, width in enumerate(natural):
        if spare <= 0:
            break
        if width > widths[index]:
            widths[index] += 1
            spare -= 1
    return widths
