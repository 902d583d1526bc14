"""Quitting while runs execute in this console: which runs quitting would cancel."""

from __future__ import annotations

from collections.abc import Sequence

from console.screens.confirm import ConfirmModal
from console.wording import plural
from core.jobs.durations import format_duration
from core.jobs.executor.config import ActiveRunInfo

#: Runs listed by name; more are counted.
LISTED_RUNS = 6


class QuitModal(ConfirmModal):
    """Asks "quit and cancel N runs?", listing them; the safe answer (stay) is focused."""

    def __init__(self, executing: Sequence[ActiveRunInfo]) -> None:
        runs = [
            f"  #{run.run_id} {run.name} · running {format_duration(run.elapsed_seconds)}"
            for run in executing[:LISTED_RUNS]
        ]
        if len(executing) > LISTED_RUNS:
            runs.append(f"  … and {plural(len(executing) - LISTED_RUNS, 'more run')}")
        super().__init__(
            f"Quit and cancel {plural(len(executing), 'run')}?",
            [
                *runs,
                "",
                "They execute in this console: quitting stops its scheduler, gives them a"
                " few seconds to finish, then cancels them (recorded as cancelled).",
                "Run `jobdeck daemon` to keep jobs running without a console.",
            ],
            confirm_label="Quit and cancel",
            cancel_label="Keep running",
        )
