"""The user's [keymap]: binding ids must exist, or the rebinding would silently do nothing."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.dom import DOMNode


def known_binding_ids(classes: Iterable[type[DOMNode]] | None = None) -> set[str]:
    """Every binding id declared by jobdeck's console classes (the app, screens, widgets)."""
    if classes is None:
        classes = [
            value
            for name, module in list(sys.modules.items())
            if name == "console" or name.startswith("console.")
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, DOMNode)
        ]
    ids: set[str] = set()
    for cls in classes:
        for binding in getattr(cls, "BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    return ids


def keymap_problems(keymap: Mapping[str, str], known: set[str]) -> list[str]:
    """One message per [keymap] entry that names no binding, with the nearest real id."""
    problems = []
    for binding_id in sorted(keymap):
        if binding_id in known:
            continue
        close = difflib.get_close_matches(binding_id, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"[keymap] {binding_id!r} is not a binding id{hint}")
    return problems
