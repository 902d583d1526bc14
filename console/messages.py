"""Messages the app posts to its screens: facts about the backend, named as facts."""

from __future__ import annotations

from textual.message import Message

from core.backend.views import ChangeView


class BackendChanged(Message):
    """Rows changed in the backend (``reset``: too much changed to say what; reload all)."""

    def __init__(self, changes: tuple[ChangeView, ...], *, reset: bool = False) -> None:
        super().__init__()
        self.changes = changes
        self.reset = reset

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of rows that changed (template, schedule, run, worker, occurrence)."""
        return frozenset(change.kind for change in self.changes)

    def touches(self, kind: str, ref_id: int) -> bool:
        """Whether this change concerns one row (always true after a reset)."""
        return self.reset or any(
            change.kind == kind and change.ref_id in (ref_id, None) for change in self.changes
        )


class OpenRun(Message):
    """A request to show one run's detail (posted by any screen; the app opens it)."""

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
