"""Run now: ask for the template's parameters (defaults prefilled), then start the run."""

from __future__ import annotations

from typing import Any, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Select, Static

from console.widgets.config_fields import FieldSlot, FormField, control_value
from console.widgets.parameter_list import default_text
from core.backend.protocol import Backend
from core.backend.views import RunView, TemplateView
from core.errors import JobdeckError, ValidationFailed
from core.jobs.parameters import ParameterSpec

#: The input type (which characters it takes) of each text-like parameter type.
INPUT_TYPES: dict[str, Literal["integer", "number", "text"]] = {
    "int": "integer",
    "float": "number",
    "string": "text",
}


def parameter_control(spec: ParameterSpec) -> Widget:
    """The input for one parameter's run value: a choice list, a checkbox or a text input."""
    control_id = f"param-{spec.name}"
    if spec.type == "choice":
        return Select(
            [(choice, choice) for choice in spec.choices],
            value=spec.default if spec.default in spec.choices else Select.NULL,
            allow_blank=spec.default is None,
            id=control_id,
            compact=True,
        )
    if spec.type == "bool":
        return Checkbox(spec.description or "", bool(spec.default), id=control_id, compact=True)
    if spec.secret:
        # The stored default stays sealed in the backend: an empty input means "use it".
        kept = "(stored default)" if spec.default is not None else ""
        return Input(placeholder=kept, password=True, id=control_id, compact=True)
    return Input(
        default_text(spec.default), type=INPUT_TYPES[spec.type], id=control_id, compact=True
    )


def parameter_hint(spec: ParameterSpec) -> str | None:
    """What a parameter is, under its input."""
    parts = [spec.type] + ([spec.description] if spec.description else [])
    return " · ".join(parts) if spec.type != "bool" else None


class RunParametersModal(ModalScreen[RunView | None]):
    """Starts a run of ``template`` with the values typed; dismisses with the run, or None."""

    CSS_PATH = "run_parameters.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="run_parameters.cancel"),
        Binding("ctrl+s", "run", "Run", id="run_parameters.run"),
    ]

    def __init__(self, backend: Backend, template: TemplateView) -> None:
        super().__init__()
        self.backend = backend
        self.template = template

    def compose(self) -> ComposeResult:
        with Vertical(id="run-dialog") as dialog:
            dialog.border_title = Content(f"Run {self.template.name} now")
            dialog.border_subtitle = "enter run · esc cancel"
            with VerticalScroll(id="run-body"):
                if not self.template.parameters:
                    yield Static("This template takes no parameters.", id="run-no-parameters")
                for spec in self.template.parameters:
                    yield FormField(
                        spec.name,
                        parameter_control(spec),
                        field=f"parameters.{spec.name}",
                        required=spec.required,
                        hint=parameter_hint(spec),
                    )
                yield Checkbox(
                    "Force: run even if paused, in maintenance or already running",
                    id="run-force",
                    compact=True,
                )
                yield Static("", id="run-error", markup=False)
            with Horizontal(id="run-buttons"):
                yield Button("Cancel", id="run-cancel", compact=True)
                yield Button("Run", id="run-start", variant="primary", compact=True)

    def on_mount(self) -> None:
        inputs = self.query("#run-body Input, #run-body Select, #run-body Checkbox")
        (inputs.first() if len(inputs) > 1 else self.query_one("#run-start", Button)).focus()

    def values(self) -> dict[str, Any]:
        """The values typed; empty inputs are left out, so the defaults apply."""
        values: dict[str, Any] = {}
        for spec in self.template.parameters:
            value = control_value(self.query_one(f"#param-{spec.name}"))
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            values[spec.name] = value
        return values

    @on(Input.Submitted)
    @on(Button.Pressed, "#run-start")
    def action_run(self) -> None:
        """Start the run with the values typed."""
        self.start_run(self.values(), self.query_one("#run-force", Checkbox).value)

    @on(Button.Pressed, "#run-cancel")
    def action_cancel(self) -> None:
        """Close without running."""
        self.dismiss(None)

    @work(exclusive=True, group="run-now")
    async def start_run(self, values: dict[str, Any], force: bool) -> None:
        """Ask the backend for the run; a rejected value is shown under its input."""
        for slot in self.query(FieldSlot).results(FieldSlot):
            slot.clear_error()
        self.query_one("#run-error").display = False
        try:
            run = await self.backend.run_template(self.template.id, parameters=values, force=force)
        except ValidationFailed as exc:
            self.show_problem(exc.field, exc.problem)
            return
        except JobdeckError as exc:  # paused, overlapping, maintenance: fixable with force
            self.show_problem("", str(exc))
            return
        self.dismiss(run)

    def show_problem(self, field: str, problem: str) -> None:
        """Show ``problem`` under the parameter ``field`` names, or above the buttons."""
        name = ".".join(field.split(".")[:2])
        target = next(
            (s for s in self.query(FieldSlot).results(FieldSlot) if s.field == name), None
        )
        if target is not None:
            target.show_error(problem)
            target.scroll_visible()
            return
        error = self.query_one("#run-error", Static)
        error.update(f"{field}: {problem}" if field else problem)
        error.display = True
        error.scroll_visible()
