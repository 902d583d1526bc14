"""Which runs the runs screen lists: the filter words of `:runs ...` and the filter dialog."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from core.backend.inputs import RunSortKey
from core.backend.views import RUN_STATUSES, TRIGGERS
from core.errors import ValidationFailed

#: Sort keys by the name the operator uses, to the RunQuery sort column.
SORTS: dict[str, RunSortKey] = {
    "queued": "queued_at",
    "started": "started_at",
    "completed": "completed_at",
    "duration": "duration_seconds",
    "name": "job_name",
}
#: A status filter that catches every way a run can go wrong.
PROBLEMS = ("failed", "timed_out", "lost")
_KEYS = {"status", "type", "trigger", "template", "schedule", "sort", "name", "order"}


@dataclass(frozen=True)
class RunFilters:
    """What the operator asked to see; template and schedule are names (or ids as text)."""

    status: tuple[str, ...] = ()
    job_type: str | None = None
    trigger: str | None = None
    template: str | None = None
    schedule: str | None = None
    search: str = ""
    sort: str = "queued"
    descending: bool = True

    @property
    def narrowed(self) -> bool:
        """Whether anything but the sort is set."""
        return self != RunFilters(sort=self.sort, descending=self.descending)

    def describe(self) -> str:
        """The filters as the words `:runs` accepts (quoted where needed)."""
        words = []
        if self.status:
            words.append(f"status={','.join(self.status)}")
        for key, value in (
            ("type", self.job_type),
            ("trigger", self.trigger),
            ("template", self.template),
            ("schedule", self.schedule),
            ("name", self.search or None),
        ):
            if value:
                words.append(shlex.quote(f"{key}={value}"))
        return " ".join(words)

    @property
    def sort_label(self) -> str:
        """The sort key and direction, e.g. ``queued ↓``."""
        return f"{self.sort} {'↓' if self.descending else '↑'}"


def parse_filters(argument: str, base: RunFilters | None = None) -> RunFilters:
    """Filters from `:runs` words: ``failed``, ``failed,lost``, ``template="backup [daily]"``,
    ``type=shell trigger=manual schedule=nightly name=sync sort=duration order=asc``."""
    try:
        words = shlex.split(argument)
    except ValueError as exc:
        raise ValidationFailed("filter", f"cannot read {argument!r}: {exc}") from None
    values: dict[str, Any] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            key, value = "status", word
        key = key.lower()
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ValidationFailed("filter", f"unknown filter {key!r} (use {known})")
        values[key] = value
    return _apply(base or RunFilters(), values)


def _apply(filters: RunFilters, values: dict[str, Any]) -> RunFilters:
    changes: dict[str, Any] = {}
    if "status" in values:
        wanted = tuple(s for s in values["status"].lower().split(",") if s)
        if wanted == ("problems",):
            wanted = PROBLEMS
        for status in wanted:
            if status not in RUN_STATUSES:
                known = ", ".join((*RUN_STATUSES, "problems"))
                raise ValidationFailed("status", f"unknown status {status!r} (use {known})")
        changes["status"] = wanted
    if "trigger" in values:
        trigger = values["trigger"].lower() or None
        if trigger is not None and trigger not in TRIGGERS:
            raise ValidationFailed(
                "trigger", f"unknown trigger {trigger!r} (use {', '.join(TRIGGERS)})"
            )
        changes["trigger"] = trigger
    if "sort" in values:
        if values["sort"] not in SORTS:
            raise ValidationFailed("sort", f"sort by one of {', '.join(SORTS)}")
        changes["sort"] = values["sort"]
    if "order" in values:
        if values["order"] not in ("asc", "desc"):
            raise ValidationFailed("order", "order is asc or desc")
        changes["descending"] = values["order"] == "desc"
    for key, field in (("type", "job_type"), ("template", "template"), ("schedule", "schedule")):
        if key in values:
            changes[field] = values[key] or None
    if "name" in values:
        changes["search"] = values["name"]
    return replace(filters, **changes)


class RunFilterModal(ModalScreen[RunFilters | None]):
    """Pick status, type, trigger, template, schedule, name and sort; dismisses with them."""

    CSS_PATH = "run_filter.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="run_filter.cancel"),
        Binding("ctrl+r", "reset", "Clear all", id="run_filter.reset"),
    ]

    def __init__(
        self,
        filters: RunFilters,
        *,
        job_types: list[str],
        templates: list[str],
        schedules: list[str],
    ) -> None:
        super().__init__()
        self.filters = filters
        self.job_types = job_types
        self.templates = templates
        self.schedules = schedules

    def compose(self) -> ComposeResult:
        f = self.filters
        statuses: list[tuple[str, tuple[str, ...]]] = [(s, (s,)) for s in RUN_STATUSES]
        statuses.append(("any problem", PROBLEMS))
        if f.status and f.status not in {value for _, value in statuses}:
            statuses.append((",".join(f.status), f.status))
        with Vertical(id="filter-dialog"):
            yield Label("Filter runs", id="filter-title")
            with Grid(id="filter-grid"):
                yield from _row("Status", _select("filter-status", statuses, f.status or None))
                yield from _row("Type", _select("filter-type", _pairs(self.job_types), f.job_type))
                yield from _row("Trigger", _select("filter-trigger", _pairs(TRIGGERS), f.trigger))
                yield from _row(
                    "Template", _select("filter-template", _pairs(self.templates), f.template)
                )
                yield from _row(
                    "Schedule", _select("filter-schedule", _pairs(self.schedules), f.schedule)
                )
                name = Input(
                    f.search, placeholder="part of the name", id="filter-name", compact=True
                )
                yield from _row("Name", name)
                sorts = _select("filter-sort", _pairs(SORTS), f.sort, blank=False)
                yield from _row("Sort by", sorts)
                order = [("newest / longest first", True), ("oldest / shortest first", False)]
                yield from _row("Order", _select("filter-order", order, f.descending, blank=False))
            with Horizontal(id="filter-buttons"):
                yield Button("Clear all", id="filter-reset")
                yield Button("Cancel", id="filter-cancel")
                yield Button("Apply", id="filter-apply", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#filter-status", Select).focus()

    def chosen(self) -> RunFilters:
        """The filters as the dialog shows them now."""

        def value(widget_id: str) -> Any:
            selected = self.query_one(f"#{widget_id}", Select).value
            return None if selected is Select.NULL else selected

        return RunFilters(
            status=value("filter-status") or (),
            job_type=value("filter-type"),
            trigger=value("filter-trigger"),
            template=value("filter-template"),
            schedule=value("filter-schedule"),
            search=self.query_one("#filter-name", Input).value.strip(),
            sort=value("filter-sort") or "queued",
            descending=bool(value("filter-order")),
        )

    @on(Button.Pressed, "#filter-apply")
    @on(Input.Submitted, "#filter-name")
    def _apply(self) -> None:
        self.dismiss(self.chosen())

    @on(Button.Pressed, "#filter-cancel")
    def action_cancel(self) -> None:
        """Close and keep the filters as they were."""
        self.dismiss(None)

    @on(Button.Pressed, "#filter-reset")
    def action_reset(self) -> None:
        """Close with every filter cleared (the sort stays)."""
        self.dismiss(RunFilters(sort=self.filters.sort, descending=self.filters.descending))


def _pairs(values: Any) -> list[tuple[str, str]]:
    return [(str(value), str(value)) for value in values]


def _select(
    widget_id: str, options: list[tuple[str, Any]], value: Any, blank: bool = True
) -> Select[Any]:
    # Labels as Text: a template called "backup [daily]" is not markup.
    known = {option for _, option in options}
    select: Select[Any] = Select(
        [(Text(label), option) for label, option in options],
        prompt="any",
        allow_blank=blank,
        value=value if value in known else Select.NULL,
        id=widget_id,
        compact=True,
    )
    return select


def _row(label: str, control: Select[Any] | Input) -> ComposeResult:
    yield Label(label, classes="filter-label")
    yield control
