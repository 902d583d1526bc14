"""Create or edit a schedule, with a live preview of its next fire times as you type.

The timing inputs shown follow the schedule type. About a quarter of a second after the last
keystroke the backend previews the next 10 fires (DST gaps and folds flagged); a timing it
rejects shows its problem under the input it names and the preview says why it cannot show
anything. Saving sends the whole form; a rejected field is shown the same way, nothing typed
is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from zoneinfo import available_timezones

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Collapsible, Input, Select, Static

from console.screens.confirm import ConfirmModal
from console.screens.schedule_fields import (
    CHOICE_POLICIES,
    COUNT_POLICIES,
    DURATION_POLICIES,
    TIMING_INPUTS,
    TYPE_FIELDS,
    WEEKDAYS,
    initial_values,
    policy_values,
    preview_spec,
    problem_text,
    schedule_patch,
    schedule_spec,
)
from console.widgets import SessionInfo
from console.widgets.config_fields import FieldSlot, FormField, control_value
from console.widgets.fire_preview import FirePreview
from console.widgets.key_bar import KeyBar
from core.backend.inputs import ScheduleSpec
from core.backend.protocol import Backend
from core.backend.views import SCHEDULE_TYPES, FireTimeView, ScheduleView, TemplateView
from core.errors import JobdeckError, ValidationFailed
from core.jobs.timing.wording import describe_schedule

#: Quiet time after the last keystroke before the preview asks the backend.
PREVIEW_DELAY = 0.25
PREVIEW_COUNT = 10
#: The fields whose problems the preview reports (the rest wait for Save).
WHEN_FIELDS = frozenset(
    {
        "schedule_type",
        "timezone",
        "start_at",
        "end_at",
        *(f for t in TYPE_FIELDS.values() for f in t),
    }
)
#: The fields inside the collapsible policies section.
POLICY_FIELDS = frozenset({*CHOICE_POLICIES, *COUNT_POLICIES, *DURATION_POLICIES})
ZONES = sorted(available_timezones())
POLICY_CHOICES = {
    "catchup": ("none", "latest", "all"),
    "overlap": ("skip", "queue", "replace", "allow"),
    "jitter": ("off", "random", "hash"),
}


class ScheduleFormModal(ModalScreen[ScheduleView | None]):
    """The schedule form; dismisses with the saved schedule, or None when cancelled."""

    CSS_PATH = "schedule_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="schedule_form.save"),
        Binding("escape", "cancel", "Cancel", id="schedule_form.cancel"),
    ]

    def __init__(
        self, backend: Backend, session: SessionInfo, schedule: ScheduleView | None = None
    ) -> None:
        super().__init__()
        self.backend = backend
        self.session = session
        self.schedule = schedule
        self.viewer_zone = str(getattr(session.zone, "key", session.zone))
        self.start = initial_values(schedule, self.viewer_zone)
        self.templates: dict[int, TemplateView] = {}
        self._initial_state: tuple[dict[str, Any], dict[str, Any]] | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="schedule-dialog") as dialog:
            name = self.schedule.job_identifier if self.schedule else None
            dialog.border_title = f"Edit schedule {name}" if name else "New schedule"
            dialog.border_subtitle = "ctrl+s save · esc cancel · tab next"
            with Horizontal(id="schedule-columns"):
                with VerticalScroll(id="schedule-fields"):
                    yield from self._compose_when()
                    yield Static("Parameter overrides", classes="form-section")
                    yield Vertical(id="form-parameters")
                    with Collapsible(title="Policies", id="form-policies"):
                        yield Vertical(id="policy-fields")
                    yield Static("", id="form-error", markup=False)
                    with Horizontal(id="form-buttons"):
                        yield Button("Cancel", id="form-cancel", compact=True)
                        yield Button("Save", id="form-save", variant="primary", compact=True)
                with Vertical(id="schedule-side"):
                    yield Static(f"Next {PREVIEW_COUNT} fire times", classes="form-section")
                    yield Static("", id="timing-summary", markup=False)
                    yield FirePreview(id="fire-preview")
        yield KeyBar()

    def _input(self, name: str, placeholder: str = "", **options: Any) -> Input:
        """A one-line input named after the schedule field it edits, holding its start value."""
        value = str(self.start[name])
        return Input(value, placeholder=placeholder, id=f"form-{name}", compact=True, **options)

    def _choice(self, name: str, options: tuple[str, ...]) -> Select[str]:
        """A compact select among fixed words."""
        return Select(
            [(o, o) for o in options],
            value=self.start[name],
            allow_blank=False,
            id=f"form-{name}",
            compact=True,
        )

    def _compose_when(self) -> ComposeResult:
        template = Select[int]([], prompt="loading…", id="form-template", compact=True)
        yield FormField("Template", template, field="template", required=True)
        name = self._input("job_identifier")
        yield FormField("Name", name, field="job_identifier", required=True)
        yield FormField(
            "Type", self._choice("schedule_type", SCHEDULE_TYPES), field="schedule_type"
        )
        cron = self._input("cron_expression", "e.g. */5 * * * *, @daily")
        yield FormField("Cron", cron, field="cron_expression", hint="min hour dom mon dow")
        every = self._input("interval_seconds", "e.g. 10s, 5m, 1h30m")
        yield FormField("Every", every, field="interval_seconds")
        yield FormField("Run at", self._input("run_at", "YYYY-MM-DD HH:MM"), field="run_at")
        minute = self._input("minute", "0-59", type="integer")
        yield FormField("Minute", minute, field="minute", hint="minutes past the hour")
        weekdays = Select(
            [(day, index) for index, day in enumerate(WEEKDAYS)],
            value=self.start["weekday"],
            allow_blank=False,
            id="form-weekday",
            compact=True,
        )
        yield FormField("Weekday", weekdays, field="weekday")
        day = self._input("day_of_month", "1-31", type="integer")
        hint = "short month: last day"
        yield FormField("Day of month", day, field="day_of_month", hint=hint)
        yield FormField("Time", self._input("time_of_day", "HH:MM"), field="time_of_day")
        suggester = SuggestFromList(ZONES, case_sensitive=False)
        zone = self._input("timezone", "e.g. Europe/Riga", suggester=suggester)
        yield FormField("Timezone", zone, field="timezone", hint="→ accepts suggestion")
        active = Checkbox("on", self.start["is_active"], id="form-is_active", compact=True)
        yield FormField("Active", active, field="is_active")
        window = "YYYY-MM-DD HH:MM"
        yield FormField("Window start", self._input("start_at", window), field="start_at")
        hint = "optional, local time"
        yield FormField("Window end", self._input("end_at", window), field="end_at", hint=hint)

    @on(Collapsible.Expanded, "#form-policies")
    async def _policies_shown(self) -> None:
        await self._ensure_policies()

    async def _ensure_policies(self) -> None:
        """Mount the policy inputs the first time they are needed (most forms never are)."""
        box = self.query_one("#policy-fields", Vertical)
        if not box.children:
            await box.mount_all(list(self._compose_policies()))

    def _compose_policies(self) -> Iterator[FormField]:
        deadline = self._input("start_deadline_seconds")
        hint = "start deadline, else missed"
        yield FormField("Start by", deadline, field="start_deadline_seconds", hint=hint)
        catchup = self._choice("catchup", POLICY_CHOICES["catchup"])
        hint = "after downtime"
        yield FormField("Catch-up", catchup, field="catchup", hint=hint)
        cap = self._input("catchup_cap", type="integer")
        yield FormField("Catch-up cap", cap, field="catchup_cap")
        window = self._input("catchup_window_seconds")
        yield FormField(
            "Catch-up span", window, field="catchup_window_seconds", hint="how far back"
        )
        overlap = self._choice("overlap", POLICY_CHOICES["overlap"])
        yield FormField("Overlap", overlap, field="overlap", hint="while one still runs")
        most = self._input("overlap_max", type="integer")
        yield FormField("Overlap max", most, field="overlap_max")
        grace = self._input("replace_grace_seconds")
        yield FormField("Replace grace", grace, field="replace_grace_seconds")
        yield FormField("Jitter", self._choice("jitter", POLICY_CHOICES["jitter"]), field="jitter")
        yield FormField("Jitter up to", self._input("jitter_seconds"), field="jitter_seconds")

    def on_mount(self) -> None:
        self._show_type_fields(self.start["schedule_type"])
        self.query_one("#form-template").focus()
        self.load_templates()

    @work(exclusive=True, group="schedule-form-templates")
    async def load_templates(self) -> None:
        """Fill the template choice, then the parameter inputs of the chosen template."""
        try:
            templates = await self.backend.list_templates()
        except JobdeckError as exc:
            self.notify(str(exc), title="Templates not loaded", severity="error")
            return
        self.templates = {t.id: t for t in templates}
        select = self.query_one("#form-template", Select)
        with self.prevent(Select.Changed):
            select.set_options([(t.name, t.id) for t in templates])
            current = self.schedule.job_template_id if self.schedule else None
            if current in self.templates:
                select.value = current
            elif templates:
                select.value = templates[0].id
        await self._mount_parameters()
        self._initial_state = self._state()
        self.refresh_preview()

    # -- reacting to input ----------------------------------------------------------------

    @on(Select.Changed, "#form-schedule_type")
    def _type_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._show_type_fields(event.value)

    def _show_type_fields(self, kind: str) -> None:
        for name in TIMING_INPUTS:
            self.query_one(f"#field-{name}").display = name in TYPE_FIELDS[kind]

    @on(Select.Changed, "#form-template")
    async def _template_changed(self) -> None:
        await self._mount_parameters()
        template = self.templates.get(self._template_id() or -1)
        if self.schedule is None and template is not None and template.overlap:
            self.query_one("#form-overlap", Select).value = template.overlap

    async def _mount_parameters(self) -> None:
        """One input per parameter of the chosen template; empty means its default."""
        box = self.query_one("#form-parameters", Vertical)
        typed = {**(self.schedule.job_parameters if self.schedule else {}), **self._overrides()}
        await box.remove_children()
        template = self.templates.get(self._template_id() or -1)
        if template is None or not template.parameters:
            await box.mount(Static("no parameters", classes="form-note"))
            return
        fields = []
        for spec in template.parameters:
            value = typed.get(spec.name)
            default = "none" if spec.default is None else spec.default
            control = Input(
                "" if value is None else str(value),
                placeholder=f"default: {'(secret)' if spec.secret else default}",
                password=spec.secret,
                classes="parameter-value",
                name=spec.name,
                compact=True,
            )
            hint = f"{spec.type}: {', '.join(spec.choices)}" if spec.choices else spec.type
            path = f"job_parameters.{spec.name}"
            fields.append(FormField(spec.name, control, field=path, hint=hint))
        await box.mount_all(fields)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _something_changed(self) -> None:
        self.refresh_preview()

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    @work(exclusive=True, group="schedule-form-preview")
    async def refresh_preview(self) -> None:
        """After a short quiet time, preview the timing as typed (or say what is wrong)."""
        await asyncio.sleep(PREVIEW_DELAY)
        if not self.is_current:
            return  # saved, cancelled or asking a question: nothing to preview into
        spec: ScheduleSpec | None = None
        outcome: list[FireTimeView] | JobdeckError
        try:
            spec = self._preview_spec()
            outcome = await self.backend.preview_timing(
                spec, PREVIEW_COUNT, viewer_zone=self.viewer_zone
            )
        except JobdeckError as exc:
            outcome = exc
        if self.is_current:  # not saved or cancelled meanwhile
            self._show_preview(spec, outcome)

    def _preview_spec(self) -> ScheduleSpec:
        spec = preview_spec(self.read_values())
        if self.schedule is not None and spec.schedule_type == "interval" and not spec.start_at:
            # An interval counts from the window start, else from when the schedule was made:
            # preview the saved schedule's own beat, not one counted from now.
            anchor = self.schedule.created_at.replace(microsecond=0)
            spec = spec.model_copy(update={"start_at": anchor})
        return spec

    def _show_preview(
        self, spec: ScheduleSpec | None, outcome: list[FireTimeView] | JobdeckError
    ) -> None:
        preview = self.query_one(FirePreview)
        summary = self.query_one("#timing-summary", Static)
        fires_known = spec is not None and not isinstance(outcome, JobdeckError)
        summary.update(describe_schedule(spec) if spec is not None and fires_known else "")
        for slot in self._slots():
            if slot.field in WHEN_FIELDS:
                slot.remove_class("-invalid")
        if isinstance(outcome, ValidationFailed):
            preview.show_problem(f"No preview: {self._mark(outcome)}")
        elif isinstance(outcome, JobdeckError):
            preview.show_problem(f"No preview: {outcome}")
        else:
            assert spec is not None
            preview.show_fires(outcome, spec.timezone or self.viewer_zone, self.viewer_zone)

    def _mark(self, exc: ValidationFailed) -> str:
        """Show a timing problem under its input without moving the cursor; return the text."""
        text = problem_text(exc.field, exc.problem)
        slot = self._slot_for(exc.field)
        if slot is None:
            return f"{exc.field}: {text}"
        if isinstance(slot.control, Input) and not slot.control.value.strip():
            # a blank input is not an error yet while the form is being filled in
            return f"fill in {slot.label} to see when it fires."
        slot.query_one(".field-error", Static).update(text)
        slot.add_class("-invalid")
        return f"{slot.label}: {text}"

    # -- reading the form -----------------------------------------------------------------

    def _slots(self) -> list[FormField]:
        return list(self.query(FormField).results(FormField))

    def _slot_for(self, field: str) -> FormField | None:
        slots = {slot.field: slot for slot in self._slots()}
        parts = field.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in slots:
                return slots[".".join(parts[:end])]
        return None

    def _template_id(self) -> int | None:
        value = control_value(self.query_one("#form-template"))
        return value if isinstance(value, int) else None

    def _overrides(self) -> dict[str, Any]:
        inputs = self.query(".parameter-value").results(Input)
        return {i.name: i.value for i in inputs if i.name and i.value.strip()}

    def read_values(self) -> dict[str, Any]:
        """Every named control's value (text, selection or checkbox state)."""
        # policies not shown yet keep the values the form started with
        values = {name: self.start[name] for name in POLICY_FIELDS}
        for widget in self.query("#schedule-fields Input, #schedule-fields Select").results():
            if widget.id and widget.id.startswith("form-"):
                values[widget.id.removeprefix("form-")] = control_value(widget)
        values["is_active"] = self.query_one("#form-is_active", Checkbox).value
        return values

    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.read_values(), self._overrides()

    # -- saving ---------------------------------------------------------------------------

    @on(Button.Pressed, "#form-save")
    def action_save(self) -> None:
        """Send the form to the backend."""
        self.save()

    @work(exclusive=True, group="schedule-form-save")
    async def save(self) -> None:
        """Create or update; a rejected field shows its problem under its input."""
        self._clear_problems()
        try:
            values = self.read_values()
            policy_values(values)  # policy typos are reported before the timing is sent
            if self.schedule is None:
                spec = schedule_spec(values, self._template_id(), self._overrides())
                saved = await self.backend.create_schedule(spec)
            else:
                patch = schedule_patch(values, self._template_id(), self._overrides())
                saved = await self.backend.update_schedule(self.schedule.id, patch)
        except ValidationFailed as exc:
            await self.show_problem(exc.field, exc.problem)
            return
        except JobdeckError as exc:
            await self.show_problem("", str(exc))
            return
        self.workers.cancel_group(self, "schedule-form-preview")
        self.dismiss(saved)

    def _clear_problems(self) -> None:
        for slot in self.query(FieldSlot).results(FieldSlot):
            slot.clear_error()
        self.query_one("#form-error").display = False

    async def show_problem(self, field: str, problem: str) -> None:
        """Show ``problem`` under the input ``field`` names (or at the end of the form)."""
        if field in POLICY_FIELDS:
            self.query_one(Collapsible).collapsed = False
            await self._ensure_policies()
        slot = self._slot_for(field) if field else None
        if slot is None:
            general = self.query_one("#form-error", Static)
            general.update(f"{field}: {problem}" if field else problem)
            general.display = True
            general.scroll_visible()
            return
        slot.show_error(problem_text(field, problem))
        slot.scroll_visible()

    # -- leaving --------------------------------------------------------------------------

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        """Close the form; ask first when something was typed."""
        self.leave()

    @work(exclusive=True, group="schedule-form-leave")
    async def leave(self) -> None:
        """Discard the form, after a confirm when it holds changes."""
        if self._initial_state is not None and self._state() != self._initial_state:
            discard = ConfirmModal(
                "Discard your changes?",
                ["The form holds changes that were not saved."],
                confirm_label="Discard",
            )
            if not await self.app.push_screen_wait(discard):
                return
        self.workers.cancel_group(self, "schedule-form-preview")
        self.dismiss(None)
