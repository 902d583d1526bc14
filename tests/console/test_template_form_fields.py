"""The config-form generator: JSON schema of a job type's config → kinds of inputs, and back."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from console.widgets.config_fields import ConfigField, config_fields
from core.backend.fake import FakeBackend
from core.errors import ValidationFailed


async def schema_of(backend: FakeBackend, job_type: str) -> dict[str, Any]:
    """The config schema the backend publishes for ``job_type``."""
    return next(t.config_schema for t in await backend.job_types() if t.name == job_type)


def by_name(fields: list[ConfigField]) -> dict[str, ConfigField]:
    """Fields keyed by property name."""
    return {field.name: field for field in fields}


async def test_shell_schema_gives_an_argv_line_a_switch_text_and_pairs(
    backend: FakeBackend,
) -> None:
    fields = config_fields(await schema_of(backend, "shell"))
    assert [(f.name, f.kind, f.required) for f in fields] == [
        ("command", "argv", True),
        ("shell", "bool", False),
        ("cwd", "text", False),
        ("env", "pairs", False),
    ]
    assert by_name(fields)["command"].path == "config.command"
    assert by_name(fields)["command"].description == (
        "argv list; a string is split with shell-like rules"
    )


async def test_http_schema_gives_a_choice_numbers_and_a_decimal(backend: FakeBackend) -> None:
    fields = by_name(config_fields(await schema_of(backend, "http")))
    assert fields["method"].kind == "enum"
    assert fields["method"].choices[:2] == ("GET", "POST")
    assert (fields["method"].has_default, fields["method"].default) == (True, "GET")
    assert (fields["expected_status"].kind, fields["expected_status"].item_type) == (
        "numbers",
        "integer",
    )
    assert (fields["timeout_seconds"].kind, fields["timeout_seconds"].default) == ("number", 30.0)
    assert (fields["body"].kind, fields["body"].default) == ("text", None)
    assert fields["url"].required and not fields["body"].required


async def test_python_kwargs_fall_back_to_json(backend: FakeBackend) -> None:
    fields = by_name(config_fields(await schema_of(backend, "python")))
    assert fields["kwargs"].kind == "json"
    assert fields["kwargs"].parse('{"batch": 500}') == {"batch": 500}
    assert fields["kwargs"].to_text({"batch": 500}) == '{"batch": 500}'
    assert fields["python_path"].kind == "argv"


def test_a_plugin_model_with_optional_enum_and_nested_model_gets_inputs() -> None:
    class Target(BaseModel):
        host: str

    class PluginConfig(BaseModel):
        level: int = Field(default=3, description="how hard")
        mode: str | None = Field(default=None, json_schema_extra={"enum": ["a", "b"]})
        target: Target

    fields = by_name(config_fields(PluginConfig.model_json_schema()))
    assert (fields["level"].kind, fields["level"].to_text(3), fields["level"].parse("7")) == (
        "integer",
        "3",
        7,
    )
    assert fields["target"].kind == "json" and fields["target"].required
    assert fields["target"].parse('{"host": "db1"}') == {"host": "db1"}


def test_argv_round_trips_through_one_shell_like_line() -> None:
    command = ConfigField("command", "Command", "argv", required=True)
    argv = ["sh", "-c", 'echo "hello world" > /tmp/out']
    line = command.to_text(argv)
    assert line == "sh -c 'echo \"hello world\" > /tmp/out'"
    assert command.parse(line) == argv
    assert command.parse('echo "hello world"') == ["echo", "hello world"]


def test_pairs_and_numbers_round_trip() -> None:
    env = ConfigField("env", "Env", "pairs")
    assert env.parse('A=1 B="two words"') == {"A": "1", "B": "two words"}
    assert env.parse(env.to_text({"A": "1", "B": "two words"})) == {"A": "1", "B": "two words"}
    codes = ConfigField("expected_status", "Expected status", "numbers", item_type="integer")
    assert codes.parse("200, 204") == [200, 204]
    assert codes.to_text([200, 204]) == "200, 204"


def test_empty_inputs_mean_the_default_or_nothing() -> None:
    assert ConfigField("cwd", "Cwd", "text", has_default=True).parse("  ") is None
    assert ConfigField("branch", "Branch", "text", has_default=True, default="main").parse("") == (
        "main"
    )
    assert ConfigField("env", "Env", "pairs").parse("") == {}
    assert ConfigField("url", "Url", "text", required=True).parse("") is None


@pytest.mark.parametrize(
    ("field", "typed", "problem"),
    [
        (ConfigField("command", "Command", "argv"), 'echo "unclosed', "No closing quotation"),
        (ConfigField("env", "Env", "pairs"), "A=1 oops", "'oops' is not KEY=VALUE"),
        (ConfigField("level", "Level", "integer"), "3.5", "invalid literal"),
        (ConfigField("kwargs", "Kwargs", "json"), "{nope", "Expecting property name"),
    ],
)
def test_what_cannot_be_read_names_the_config_field(
    field: ConfigField, typed: str, problem: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        field.parse(typed)
    assert caught.value.field == f"config.{field.name}"
    assert problem in caught.value.problem
