"""Run fields as text: table cells, times in the session zone, ticking durations, result JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from rich.highlighter import JSONHighlighter
from rich.text import Span, Text

from console.widgets import cells
from core.backend.views import ACTIVE_STATUSES, TERMINAL_STATUSES, RunView
from core.jobs.durations import format_duration

#: (column key, label) of every runs-table column, in display order.
RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("status", "Status"),
    ("name", "Name"),
    ("type", "Type"),
    ("trigger", "Trigger"),
    ("scheduled_for", "Scheduled for"),
    ("started", "Started"),
    ("duration", "Duration"),
    ("worker", "Worker"),
)
#: Columns dropped first when the terminal is narrow (least needed during an incident first).
NARROW_DROPS = ("scheduled_for", "type", "trigger")
#: The theme colour of each kind of JSON token.
_JSON_COLOURS = {
    "json.key": "text-primary",
    "json.str": "text-success",
    "json.number": "text-warning",
    "json.bool_true": "text-accent",
    "json.bool_false": "text-accent",
    "json.null": "text-secondary",
}


def when(moment: datetime | None, zone: tzinfo, now: datetime) -> str:
    """A time in the session zone: the clock time today, the date too on other days."""
    if moment is None:
        return cells.MISSING
    local, today = moment.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return f"{local:%H:%M:%S}"
    if local.year == today.year:
        return f"{local:%m-%d %H:%M}"
    return f"{local:%Y-%m-%d}"


def full_time(moment: datetime | None, zone: tzinfo) -> str:
    """A time with its date and zone, for the run detail."""
    if moment is None:
        return cells.MISSING
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def elapsed(run: RunView, now: datetime) -> float | None:
    """Seconds the run has taken: final once it ended, still growing while it runs."""
    if run.duration_seconds is not None:
        return run.duration_seconds
    if run.started_at is None:
        return None
    end = run.completed_at or (now if run.status in ACTIVE_STATUSES else None)
    return None if end is None else max((end - run.started_at).total_seconds(), 0.0)


def duration_cell(run: RunView, now: datetime) -> Text:
    """How long the run took (or has been running), right-aligned; dim while still growing."""
    seconds = elapsed(run, now)
    if seconds is None:
        missing = cells.muted(cells.MISSING)
        missing.justify = "right"
        return missing
    text = cells.plain(format_duration(seconds), justify="right")
    if run.status == "running":
        text.stylize("italic")
    return text


def shortened(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters with an ellipsis."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def run_row(
    run: RunView,
    theme: Mapping[str, str],
    now: datetime,
    zone: tzinfo,
    columns: Sequence[str],
) -> list[Text]:
    """The cells of ``run`` for the given column keys, in their order."""
    values: dict[str, Text] = {
        "status": cells.status(run.status, theme),
        "name": cells.plain(shortened(run.job_name, 28)),
        "type": cells.plain(run.job_type),
        "trigger": cells.plain(run.triggered_by),
        "scheduled_for": cells.plain(when(run.scheduled_for, zone, now)),
        "started": cells.plain(when(run.started_at, zone, now)),
        "duration": duration_cell(run, now),
        "worker": cells.plain(shortened(run.worker or cells.MISSING, 18)),
    }
    if run.status == "running" and run.cancel_reason:
        values["status"] = cells.status("running", theme).append(" ⊘")
    return [values[key] for key in columns]


def can_cancel(run: RunView | None) -> bool:
    """Whether cancelling ``run`` would do anything (it has not ended and no cancel is asked)."""
    return run is not None and run.status in ACTIVE_STATUSES and not run.cancel_reason


def can_retry(run: RunView | None) -> bool:
    """Whether ``run`` can be retried (it ended and its template still exists)."""
    return run is not None and run.status in TERMINAL_STATUSES and run.job_template_id is not None


def can_delete(run: RunView | None) -> bool:
    """Whether ``run`` can be deleted (only ended runs can)."""
    return run is not None and run.status in TERMINAL_STATUSES


def json_text(value: Any, theme: Mapping[str, str]) -> Text:
    """``value`` as indented JSON, its tokens coloured by the theme (never markup)."""
    text = Text(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str))
    JSONHighlighter().highlight(text)
    text.spans = [
        Span(span.start, span.end, cells.theme_style(theme, _JSON_COLOURS[str(span.style)]))
        for span in text.spans
        if str(span.style) in _JSON_COLOURS
    ]
    return text
