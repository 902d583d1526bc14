"""Form inputs generated from a job type's config JSON schema, for built-in and plug-in types.

Each schema property becomes one labelled control: text, whole or decimal number, on/off,
a choice among an enum, an argv line split like a shell (``echo "hello world"``), a
comma-separated list of numbers, ``KEY=VALUE`` pairs, or JSON for anything else. Every form
part is a ``FieldSlot`` named by the backend's dotted error path (``config.command``), so a
``ValidationFailed`` lands under the input it names.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalGroup
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from core.errors import ValidationFailed

FieldKind = Literal["text", "integer", "number", "bool", "enum", "argv", "numbers", "pairs", "json"]

#: What to type, shown in an empty input of each kind.
PLACEHOLDERS: dict[str, str] = {
    "argv": "e.g. echo hello (split like a shell; quote spaces)",
    "numbers": "e.g. 200, 204",
    "pairs": 'e.g. KEY=value OTHER="two words"',
    "json": 'JSON, e.g. {"key": "value"}',
}


@dataclass(frozen=True)
class ConfigField:
    """One property of a config schema, as the form edits it."""

    name: str
    title: str
    kind: FieldKind
    required: bool = False
    description: str | None = None
    has_default: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    item_type: str = "string"

    @property
    def path(self) -> str:
        """The dotted path the backend names in its errors."""
        return f"config.{self.name}"

    def to_text(self, value: Any) -> str:
        """A stored value as the text its input shows."""
        if value is None:
            return ""
        if self.kind == "argv":
            return value if isinstance(value, str) else shlex.join(str(part) for part in value)
        if self.kind == "numbers":
            return ", ".join(str(item) for item in value)
        if self.kind == "pairs":
            return shlex.join(f"{key}={item}" for key, item in value.items())
        if self.kind == "json":
            return json.dumps(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def parse(self, text: str) -> Any:
        """The value to send for what was typed; empty means the default (or nothing)."""
        if not text.strip():
            if self.has_default:
                return self.default
            return {"argv": [], "numbers": [], "pairs": {}, "json": None}.get(self.kind)
        try:
            return self._parse(text.strip())
        except ValidationFailed:
            raise
        except (ValueError, TypeError) as exc:
            raise ValidationFailed(self.path, f"{text.strip()!r}: {exc}") from None

    def _parse(self, text: str) -> Any:
        if self.kind == "integer":
            return int(text)
        if self.kind == "number":
            return float(text)
        if self.kind == "argv":
            return shlex.split(text)
        if self.kind == "numbers":
            cast = int if self.item_type == "integer" else float
            return [cast(part) for part in text.replace(",", " ").split()]
        if self.kind == "pairs":
            pairs = {}
            for word in shlex.split(text):
                key, equals, value = word.partition("=")
                if not equals or not key:
                    raise ValidationFailed(self.path, f"{word!r} is not KEY=VALUE")
                pairs[key] = value
            return pairs
        if self.kind == "json":
            return json.loads(text)
        return text


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property's own schema (refs followed, ``X | None`` unwrapped) and its nullability."""
    if "$ref" in prop:
        own = {key: value for key, value in prop.items() if key != "$ref"}
        return _resolve({**defs.get(prop["$ref"].rsplit("/", 1)[-1], {}), **own}, defs)
    variants = prop.get("anyOf") or prop.get("oneOf")
    if variants:
        concrete = [v for v in variants if v.get("type") != "null"]
        if len(concrete) == 1:
            inner, _ = _resolve(concrete[0], defs)
            return {**prop, **inner}, len(concrete) < len(variants)
    return prop, False


def _kind(prop: dict[str, Any]) -> tuple[FieldKind, str]:
    kind = prop.get("type")
    if "enum" in prop:
        return "enum", "string"
    if kind == "string":
        return "text", "string"
    if kind in ("integer", "number", "boolean"):
        return ("bool" if kind == "boolean" else kind), "string"
    if kind == "array":
        item_type = prop.get("items", {}).get("type", "")
        if item_type == "string":
            return "argv", item_type
        if item_type in ("integer", "number"):
            return "numbers", item_type
    if kind == "object" and prop.get("additionalProperties", {}) == {"type": "string"}:
        return "pairs", "string"
    return "json", "string"


def config_fields(schema: dict[str, Any]) -> list[ConfigField]:
    """The form fields of a config JSON schema, in the model's field order."""
    required = set(schema.get("required", ()))
    defs = schema.get("$defs", {})
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop, nullable = _resolve(raw, defs)
        kind, item_type = _kind(prop)
        fields.append(
            ConfigField(
                name=name,
                title=prop.get("title") or name.replace("_", " ").capitalize(),
                kind=kind,
                required=name in required,
                description=prop.get("description"),
                has_default="default" in prop,
                default=prop.get("default"),
                choices=tuple(prop.get("enum", ())) + ((None,) if nullable else ()),
                item_type=item_type,
            )
        )
    return fields


class FieldSlot(VerticalGroup):
    """A part of a form that backend error paths point at; shows its error under itself."""

    DEFAULT_CSS = """
    FieldSlot {
        height: auto;
        .field-error { display: none; color: $text-error; padding-left: 16; }
        &.-invalid .field-error { display: block; }
    }
    """

    def __init__(self, *, field: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.field = field

    def error_line(self) -> Static:
        """The line that shows this slot's problem (hidden while there is none)."""
        return Static("", classes="field-error", markup=False)

    def show_error(self, problem: str, subfield: str | None = None) -> None:
        """Show ``problem`` under the slot and put the cursor where it needs fixing."""
        # pydantic's "Value error, " prefix tells an operator nothing.
        self.query_one(".field-error", Static).update(problem.removeprefix("Value error, "))
        self.add_class("-invalid")
        self.focus_control(subfield)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def clear_error(self) -> None:
        """Hide the problem again (editing the slot does it too)."""
        self.remove_class("-invalid")

    def focus_control(self, subfield: str | None = None) -> None:
        """Focus the slot's first input (``subfield`` picks one where a slot has several)."""
        for widget in self.query("Input, Select, Checkbox").results():
            if widget.focusable:
                widget.focus()
                return


class FormField(FieldSlot):
    """A label (with a * when required), one control, an optional hint and the error line."""

    DEFAULT_CSS = """
    FormField {
        .field-line { height: auto; }
        .field-label { width: 16; padding-right: 1; color: $foreground-muted; }
        .field-hint { color: $foreground-muted; text-style: italic; padding-left: 16; }
    }
    """

    def __init__(
        self,
        label: str,
        control: Widget,
        *,
        field: str,
        required: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(field=field, id=f"field-{field.replace('.', '-')}")
        self.label = label
        self.control = control
        self.required = required
        self.hint = hint

    def compose(self) -> ComposeResult:
        label = Content(self.label)
        if self.required:
            label += Content.from_markup(" [$text-error]*")
        with HorizontalGroup(classes="field-line"):
            yield Label(label, classes="field-label")
            yield self.control
        if self.hint:
            yield Static(self.hint, classes="field-hint", markup=False)
        yield self.error_line()


def control_value(control: Widget) -> Any:
    """What a form control holds: text, a selection (None when blank) or a checkbox state."""
    if isinstance(control, Input):
        return control.value
    if isinstance(control, Select):
        return None if control.is_blank() else control.value
    if isinstance(control, Checkbox):
        return control.value
    raise TypeError(f"not a form control: {control!r}")


class ConfigFields(VerticalGroup):
    """The inputs of one job type's config, built from its JSON schema; ``collect`` reads them."""

    DEFAULT_CSS = """
    ConfigFields { height: auto; }
    """

    def __init__(self, schema: dict[str, Any], values: dict[str, Any] | None = None) -> None:
        super().__init__(id="config-fields")
        self.fields = config_fields(schema)
        self.values = values

    def compose(self) -> ComposeResult:
        for spec in self.fields:
            yield FormField(
                spec.title,
                self._control(spec),
                field=spec.path,
                required=spec.required,
                hint=None if spec.kind == "bool" else spec.description,
            )

    def _current(self, spec: ConfigField) -> Any:
        if self.values is None:
            return spec.default
        return self.values.get(spec.name, spec.default)

    def _control(self, spec: ConfigField) -> Widget:
        control_id = f"config-{spec.name}"
        value = self._current(spec)
        if spec.kind == "bool":
            return Checkbox(spec.description or "", bool(value), id=control_id, compact=True)
        if spec.kind == "enum":
            choices = [choice for choice in spec.choices if choice is not None]
            return Select(
                [(str(choice), choice) for choice in choices],
                value=value if value in choices else Select.NULL,
                allow_blank=None in spec.choices or not (spec.has_default or spec.required),
                prompt="(not set)",
                id=control_id,
                compact=True,
            )
        input_type: Literal["integer", "number", "text"] = "text"
        if spec.kind == "integer" or spec.kind == "number":
            input_type = spec.kind
        return Input(
            spec.to_text(value),
            placeholder=PLACEHOLDERS.get(spec.kind, ""),
            type=input_type,
            id=control_id,
            compact=True,
        )

    def _controls(self) -> Iterator[tuple[ConfigField, Widget]]:
        for spec in self.fields:
            yield spec, self.query_one(f"#config-{spec.name}")

    def collect(self) -> dict[str, Any]:
        """The config as typed; a field that cannot be read raises ValidationFailed naming it."""
        config: dict[str, Any] = {}
        for spec, control in self._controls():
            raw = control_value(control)
            if isinstance(control, Input):
                value = spec.parse(raw)
            elif raw is None:
                value = spec.default if spec.has_default else None
            else:
                value = raw
            if value is not None or spec.has_default:
                config[spec.name] = value
        return config
