"""Create or edit a template: common fields, the job type's config form and its parameters.

Saving sends the form to the backend; a ValidationFailed is shown under the input its field
path names (``config.command``, ``parameters.0.name``) and the form stays open as typed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from console.screens.confirm import ConfirmModal
from console.widgets.config_fields import ConfigFields, FieldSlot, FormField, control_value
from console.widgets.key_bar import KeyBar
from console.widgets.parameter_list import ParameterList
from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.protocol import Backend
from core.backend.views import JobTypeView, TemplateView
from core.errors import JobdeckError, ValidationFailed
from core.jobs.durations import format_duration, parse_duration

#: Settings a patch resets with ``clear`` when the form leaves them empty.
CLEARABLE = ("timeout_seconds", "deadline_seconds", "description", "overlap")
OVERLAPS = ("skip", "queue", "replace", "allow")


def duration_text(seconds: float | None) -> str:
    """Seconds as the form shows them ("1h", "30s"); empty for none."""
    return "" if seconds is None else format_duration(seconds)


def optional_duration(text: str, field: str) -> float | None:
    """A typed duration in seconds, None when empty, "0" allowed."""
    if not text.strip():
        return None
    if text.strip() in ("0", "0s"):
        return 0.0
    return parse_duration(text, field)


def whole_number(text: str, field: str) -> int:
    """A typed whole number, or a ValidationFailed naming ``field``."""
    try:
        return int(text.strip() or "0")
    except ValueError:
        raise ValidationFailed(field, f"{text.strip()!r} is not a whole number") from None


class TemplateFormModal(ModalScreen[TemplateView | None]):
    """The template form; dismisses with the saved template, or None when cancelled."""

    CSS_PATH = "template_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="template_form.save"),
        Binding("escape", "cancel", "Cancel", id="template_form.cancel"),
    ]

    def __init__(
        self, backend: Backend, job_types: list[JobTypeView], template: TemplateView | None = None
    ) -> None:
        super().__init__()
        self.backend = backend
        self.job_types = {job_type.name: job_type for job_type in job_types}
        self.template = template
        if template is not None:
            self.job_type = template.job_type
        else:
            self.job_type = "shell" if "shell" in self.job_types else next(iter(self.job_types))
        self._initial_state: list[Any] = []

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        template = self.template
        with Vertical(id="form-dialog") as dialog:
            dialog.border_title = Content(f"Edit {template.name}" if template else "New template")
            dialog.border_subtitle = "ctrl+s save · esc cancel · tab next field"
            with VerticalScroll(id="form-body"):
                yield from self._compose_general(template)
                yield Static(self._config_title(), id="form-config-title", classes="form-section")
                yield self._config_section()
                yield from self._compose_policies(template)
                yield Static("Parameters", classes="form-section")
                yield ParameterList(template.parameters if template else ())
                yield Static("", id="form-error", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Cancel", id="form-cancel", compact=True)
                yield Button("Save", id="form-save", variant="primary", compact=True)
        yield KeyBar()

    def _compose_general(self, template: TemplateView | None) -> ComposeResult:
        yield Static("General", classes="form-section")
        name = Input(template.name if template else "", id="form-name", compact=True)
        yield FormField("Name", name, field="name", required=True)
        types = [(name, name) for name in self.job_types]
        if self.job_type not in self.job_types:
            types.append((f"{self.job_type} (not installed)", self.job_type))
        job_type = Select(
            types,
            value=self.job_type,
            allow_blank=False,
            disabled=template is not None,
            id="form-job-type",
            compact=True,
        )
        yield FormField("Job type", job_type, field="job_type", required=True)
        description = (template.description if template else None) or ""
        yield FormField(
            "Description",
            Input(description, id="form-description", compact=True),
            field="description",
        )
        tags = Input(
            ", ".join(template.tags) if template else "",
            placeholder="e.g. db, backup",
            id="form-tags",
            compact=True,
        )
        yield FormField("Tags", tags, field="tags")

    def _compose_policies(self, template: TemplateView | None) -> ComposeResult:
        yield Static("Policies", classes="form-section")
        timeout = duration_text(template.timeout_seconds) if template else ""
        yield FormField(
            "Timeout",
            Input(timeout, placeholder="none (e.g. 30m, 1h)", id="form-timeout", compact=True),
            field="timeout_seconds",
            hint="one attempt is stopped after this long",
        )
        deadline = duration_text(template.deadline_seconds) if template else ""
        yield FormField(
            "Deadline",
            Input(deadline, placeholder="none (e.g. 2h)", id="form-deadline", compact=True),
            field="deadline_seconds",
            hint="all attempts together, retries included",
        )
        retries = str(template.retries) if template else "0"
        yield FormField(
            "Retries",
            Input(retries, type="integer", id="form-retries", compact=True),
            field="retries",
        )
        yield FormField(
            "Backoff",
            Select(
                [("exponential", "exponential"), ("fixed", "fixed")],
                value=template.retry_backoff if template else "exponential",
                allow_blank=False,
                id="form-backoff",
                compact=True,
            ),
            field="retry_backoff",
        )
        delay = duration_text(template.retry_delay_seconds) if template else "10s"
        yield FormField(
            "Retry delay",
            Input(delay, placeholder="e.g. 10s", id="form-delay", compact=True),
            field="retry_delay_seconds",
        )
        overlap = template.overlap if template and template.overlap in OVERLAPS else Select.NULL
        yield FormField(
            "Overlap",
            Select(
                [(name, name) for name in OVERLAPS],
                value=overlap,
                prompt="(schedule decides)",
                id="form-overlap",
                compact=True,
            ),
            field="overlap",
            hint="when a run is still going: skip, queue, replace it, or allow both",
        )

    def _config_title(self) -> str:
        job_type = self.job_types.get(self.job_type)
        return f"Config · {self.job_type}" + (f" — {job_type.description}" if job_type else "")

    def _config_section(self) -> ConfigFields | Static:
        job_type = self.job_types.get(self.job_type)
        if job_type is None:
            config = json.dumps(self.template.config if self.template else {}, indent=2)
            return Static(
                f"Job type {self.job_type!r} is not installed: its config is kept as it is.\n"
                f"{config}",
                id="config-fields",
                markup=False,
            )
        values = self.template.config if self.template else None
        return ConfigFields(job_type.config_schema, values)

    def on_mount(self) -> None:
        self._initial_state = self._state()
        self.query_one("#form-name", Input).focus()

    def _state(self) -> list[Any]:
        body = self.query_one("#form-body")
        return [control_value(c) for c in body.query("Input, Select, Checkbox").results()]

    @on(Select.Changed, "#form-job-type")
    async def _job_type_changed(self, event: Select.Changed) -> None:
        if event.value == self.job_type or not isinstance(event.value, str):
            return
        self.job_type = event.value
        await self.query_one("#config-fields").remove()
        await self.query_one("#form-body").mount(self._config_section(), after="#form-config-title")
        self.query_one("#form-config-title", Static).update(self._config_title())

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    # -- reading the form -----------------------------------------------------------------

    def _text(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def read_values(self) -> dict[str, Any]:
        """Every field as the backend takes it; a field that cannot be read raises."""
        config_fields = self.query("#config-fields").first()
        overlap = control_value(self.query_one("#form-overlap"))
        return {
            "name": self._text("#form-name").strip(),
            "description": self._text("#form-description").strip() or None,
            "tags": tuple(tag for tag in re.split(r"[,\s]+", self._text("#form-tags")) if tag),
            "config": config_fields.collect() if isinstance(config_fields, ConfigFields) else None,
            "timeout_seconds": optional_duration(self._text("#form-timeout"), "timeout_seconds"),
            "deadline_seconds": optional_duration(self._text("#form-deadline"), "deadline_seconds"),
            "retries": whole_number(self._text("#form-retries"), "retries"),
            "retry_backoff": control_value(self.query_one("#form-backoff")),
            "retry_delay_seconds": optional_duration(
                self._text("#form-delay"), "retry_delay_seconds"
            )
            or 0.0,
            "overlap": overlap,
            "parameters": self.query_one(ParameterList).collect(),
        }

    def template_patch(self, values: dict[str, Any]) -> TemplatePatch | None:
        """The changes against the template being edited (None when nothing changed)."""
        assert self.template is not None
        changed = {
            key: value
            for key, value in values.items()
            if value != getattr(self.template, key) and not (key == "config" and value is None)
        }
        if not changed:
            return None
        cleared = tuple(key for key in CLEARABLE if key in changed and changed[key] is None)
        kept = {key: value for key, value in changed.items() if value is not None}
        return TemplatePatch(**kept, clear=cleared)

    # -- saving ---------------------------------------------------------------------------

    @on(Button.Pressed, "#form-save")
    def action_save(self) -> None:
        """Send the form to the backend."""
        self.save()

    @work(exclusive=True, group="template-form")
    async def save(self) -> None:
        """Create or update; a rejected field shows its problem under its input."""
        self.clear_problems()
        try:
            values = self.read_values()
            if self.template is None:
                saved = await self.backend.create_template(
                    TemplateSpec(job_type=self.job_type, **values)
                )
            else:
                patch = self.template_patch(values)
                if patch is None:
                    self.notify("Nothing changed", timeout=3, markup=False)
                    self.dismiss(None)
                    return
                saved = await self.backend.update_template(self.template.id, patch)
        except ValidationFailed as exc:
            self.show_problem(exc.field, exc.problem)
            return
        except JobdeckError as exc:
            self.notify(
                str(exc), title="Template not saved", severity="error", timeout=10, markup=False
            )
            return
        self.dismiss(saved)

    def clear_problems(self) -> None:
        """Hide every problem shown by the last save."""
        for slot in self.query(FieldSlot).results(FieldSlot):
            slot.clear_error()
        self.query_one("#form-error").display = False

    def show_problem(self, field: str, problem: str) -> None:
        """Show ``problem`` under the input ``field`` names (or at the end of the form)."""
        slot, subfield = self._slot_for(field)
        if slot is None:
            general = self.query_one("#form-error", Static)
            general.update(f"{field}: {problem}" if field else problem)
            general.display = True
            general.scroll_visible()
            return
        slot.show_error(problem, subfield)
        slot.scroll_visible()

    def _slot_for(self, field: str) -> tuple[FieldSlot | None, str | None]:
        parts = field.split(".")
        if parts[0] == "parameters" and len(parts) > 1:
            row = self.query_one(ParameterList).row_for(parts[1])
            return row, parts[2] if len(parts) > 2 else None
        slots = {slot.field: slot for slot in self.query(FieldSlot).results(FieldSlot)}
        for end in range(len(parts), 0, -1):
            slot = slots.get(".".join(parts[:end]))
            if slot is not None:
                return slot, None
        return None, None

    # -- leaving --------------------------------------------------------------------------

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        """Close the form; ask first when something was typed."""
        self.leave()

    @work(exclusive=True, group="template-form-leave")
    async def leave(self) -> None:
        """Discard the form, after a confirm when it holds changes."""
        if self._state() != self._initial_state:
            discard = ConfirmModal(
                "Discard your changes?",
                ["The form holds changes that were not saved."],
                confirm_label="Discard",
                cancel_label="Keep editing",
            )
            if not await self.app.push_screen_wait(discard):
                return
        self.dismiss(None)
