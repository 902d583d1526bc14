"""Edit a template's parameter declarations: one line per parameter, add and remove."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalGroup
from textual.widgets import Button, Checkbox, Input, Label, Select

from console.widgets.config_fields import FieldSlot
from core.jobs.parameters import MASK, PARAMETER_TYPES, ParameterSpec, make_spec

#: The control of each part of a parameter, by the name backend error paths use.
SUBFIELDS = {
    "name": ".parameter-name",
    "type": ".parameter-type",
    "default": ".parameter-default",
    "required": ".parameter-required",
    "choices": ".parameter-choices",
}


def default_text(value: Any) -> str:
    """A parameter default as its input shows it (booleans as true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ParameterRow(FieldSlot):
    """One declared parameter: name, type, default, required, choices, and a remove button."""

    DEFAULT_CSS = """
    ParameterRow {
        .parameter-line { height: 1; }
        .parameter-name { width: 16; }
        .parameter-type { width: 11; margin: 0 1; }
        .parameter-default { width: 1fr; min-width: 10; }
        .parameter-required { width: auto; margin: 0 1; }
        .parameter-choices { width: 16; }
        .parameter-choices:disabled { visibility: hidden; }
        .parameter-remove { width: 3; min-width: 3; margin-left: 1; }
        .field-error { padding-left: 0; }
    }
    """

    def __init__(self, spec: ParameterSpec | None = None) -> None:
        super().__init__(field="")  # named parameters.<index> when the list is collected
        self.original = spec

    def compose(self) -> ComposeResult:
        spec = self.original
        kind = spec.type if spec else "string"
        with HorizontalGroup(classes="parameter-line"):
            yield Input(
                spec.name if spec else "",
                placeholder="name",
                classes="parameter-name",
                compact=True,
            )
            yield Select(
                [(name, name) for name in PARAMETER_TYPES],
                value=kind,
                allow_blank=False,
                classes="parameter-type",
                compact=True,
            )
            yield Input(
                default_text(spec.default if spec else None),
                placeholder="default",
                password=kind == "secret",
                classes="parameter-default",
                compact=True,
            )
            yield Checkbox(
                "required",
                spec.required if spec else False,
                classes="parameter-required",
                compact=True,
            )
            yield Input(
                ", ".join(spec.choices) if spec else "",
                placeholder="choices: a, b",
                disabled=kind != "choice",
                classes="parameter-choices",
                compact=True,
            )
            yield Button(
                "✕", classes="parameter-remove", compact=True, tooltip="remove this parameter"
            )
        yield self.error_line()

    @property
    def name_typed(self) -> str:
        """The name as typed (trimmed)."""
        return self.query_one(".parameter-name", Input).value.strip()

    def spec(self) -> ParameterSpec:
        """The declaration as typed; a problem raises ValidationFailed naming this row."""
        kind = self.query_one(".parameter-type", Select).value
        default = self.query_one(".parameter-default", Input).value
        choices = self.query_one(".parameter-choices", Input).value
        data: dict[str, Any] = {
            "name": self.name_typed,
            "type": kind,
            "default": default if default.strip() else None,
            "required": self.query_one(".parameter-required", Checkbox).value,
            "choices": tuple(c.strip() for c in choices.split(",") if c.strip())
            if kind == "choice"
            else (),
            "description": self.original.description if self.original else None,
        }
        return make_spec(data, field=self.field)

    def focus_control(self, subfield: str | None = None) -> None:
        """Focus the part the error names (the name when it names none)."""
        self.query_one(SUBFIELDS.get(subfield or "", ".parameter-name")).focus()

    @on(Select.Changed, ".parameter-type")
    def _type_changed(self, event: Select.Changed) -> None:
        default = self.query_one(".parameter-default", Input)
        if default.password and event.value != "secret" and default.value == MASK:
            default.value = ""  # the mask stands for the stored secret, not a value
        default.password = event.value == "secret"
        self.query_one(".parameter-choices", Input).disabled = event.value != "choice"

    @on(Button.Pressed, ".parameter-remove")
    async def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        parameter_list = self.query_ancestor(ParameterList)
        await self.remove()
        parameter_list.focus_after_change()


class ParameterList(VerticalGroup):
    """Every parameter of a template; ``collect`` reads them as ParameterSpecs."""

    DEFAULT_CSS = """
    ParameterList {
        height: auto;
        #parameter-rows { height: auto; }
        #parameter-empty { color: $foreground-muted; }
        #parameter-header { height: 1; color: $foreground-muted; }
        #parameter-header .parameter-type { width: 11; margin: 0 1; }
        #parameter-header .parameter-default { width: 1fr; min-width: 10; }
        #parameter-header .parameter-name { width: 16; }
        #parameter-header .parameter-choices { width: 34; padding-left: 14; }
        #parameter-add { margin-top: 1; width: auto; }
    }
    """

    def __init__(self, specs: tuple[ParameterSpec, ...] = ()) -> None:
        super().__init__(id="parameter-list")
        self.specs = specs

    def compose(self) -> ComposeResult:
        yield Label(
            "No parameters: a run gets none. Add one to pass values as JOBDECK_PARAM_<NAME>.",
            id="parameter-empty",
        )
        with HorizontalGroup(id="parameter-header"):
            for title, part in (("Name", "name"), ("Type", "type"), ("Default", "default")):
                yield Label(title, classes=f"parameter-{part}")
            yield Label("Choices", classes="parameter-choices")
        with VerticalGroup(id="parameter-rows"):
            for spec in self.specs:
                yield ParameterRow(spec)
        yield Button("+ Add parameter", id="parameter-add", compact=True)

    def on_mount(self) -> None:
        self._show_empty_hint()

    @property
    def rows(self) -> list[ParameterRow]:
        """The rows in order."""
        return list(self.query(ParameterRow).results(ParameterRow))

    @on(Button.Pressed, "#parameter-add")
    async def add_parameter(self) -> None:
        """Append an empty parameter and put the cursor on its name."""
        row = ParameterRow()
        await self.query_one("#parameter-rows").mount(row)
        self._show_empty_hint()
        row.focus_control("name")
        row.scroll_visible()

    def focus_after_change(self) -> None:
        """After a removal: keep the cursor in the list."""
        self._show_empty_hint()
        self.query_one("#parameter-add").focus()

    def _show_empty_hint(self) -> None:
        self.query_one("#parameter-empty").display = not self.rows
        self.query_one("#parameter-header").display = bool(self.rows)

    def collect(self) -> tuple[ParameterSpec, ...]:
        """Every declaration, in order; rows are renamed ``parameters.<index>`` for errors."""
        for index, row in enumerate(self.rows):
            row.field = f"parameters.{index}"
        return tuple(row.spec() for row in self.rows)

    def row_for(self, key: str) -> ParameterRow | None:
        """The row an error path's key names: an index, or a parameter name (the last one)."""
        rows = self.rows
        if key.isdigit():
            return rows[int(key)] if int(key) < len(rows) else None
        named = [row for row in rows if row.name_typed == key]
        return named[-1] if named else None
