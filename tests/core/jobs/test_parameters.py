"""Typed parameters: declarations, coercion, resolution for runs, masking; and durations."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ValidationFailed
from core.jobs.durations import format_duration, parse_duration
from core.jobs.parameters import (
    MASK,
    ParameterSpec,
    make_spec,
    masked,
    parse_parameter_declaration,
    resolve,
)


@pytest.mark.parametrize(
    ("text", "name", "type_", "default", "required"),
    [
        ("target", "target", "string", None, True),
        ("target:string=db1", "target", "string", "db1", False),
        ("n:int=3", "n", "int", 3, False),
        ("ratio:float=0.5", "ratio", "float", 0.5, False),
        ("dry_run:bool", "dry_run", "bool", None, False),
        ("dry_run:bool=yes", "dry_run", "bool", True, False),
        ("env:choice(dev|prod)=prod", "env", "choice", "prod", False),
        ("token:secret", "token", "secret", None, True),
    ],
)
def test_declarations(text: str, name: str, type_: str, default: Any, required: bool) -> None:
    spec = parse_parameter_declaration(text)
    assert (spec.name, spec.type, spec.default, spec.required) == (name, type_, default, required)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("n:integer=1", "unknown type 'integer'"),
        ("n:int=many", "'many' is not a valid int"),
        ("1abc:int=1", "must be letters, digits"),
        ("env:choice()=x", "needs at least one choice"),
        ("env:choice(a|b)=c", "'c' is not one of a, b"),
        ("flag:bool=maybe", "'maybe' is not a valid bool"),
        ("x:float=1e", "'1e' is not a valid float"),
    ],
)
def test_bad_declarations_name_the_parameter(text: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_parameter_declaration(text)
    assert words in str(caught.value)
    assert text.split(":")[0] in str(caught.value) or "--param" in str(caught.value)


def test_resolve_for_a_run() -> None:
    specs = [
        make_spec({"name": "target", "required": True}),
        make_spec({"name": "n", "type": "int", "default": 2}),
        make_spec({"name": "token", "type": "secret", "default": "pw"}),
    ]
    assert resolve(specs, {"target": "db", "n": "5"}) == {"target": "db", "n": 5, "token": "pw"}
    with pytest.raises(ValidationFailed, match=r"parameters.target: required"):
        resolve(specs, {})
    with pytest.raises(ValidationFailed, match=r"parameters.bogus: unknown parameter"):
        resolve(specs, {"target": "x", "bogus": 1})
    with pytest.raises(ValidationFailed, match=r"parameters.n: 1.5 is not a valid int"):
        resolve(specs, {"target": "x", "n": 1.5})
    assert masked(specs, {"target": "db", "token": "pw"}) == {"target": "db", "token": MASK}


def test_bool_is_not_an_int() -> None:
    with pytest.raises(ValidationFailed):
        resolve([ParameterSpec(name="n", type="int")], {"n": True})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45", 45),
        ("45s", 45),
        ("5m", 300),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("2d", 172800),
        ("250ms", 0.25),
        ("1w", 604800),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("soon", "not a duration"),
        ("5x", "not a duration"),
        ("0s", "greater than"),
        ("m5", "not a duration"),
        ("11y", "not a duration"),
        ("9999w", "10 years"),
        ("1" * 80, "too long"),
    ],
)
def test_bad_durations(text: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_duration(text, "--timeout")
    assert caught.value.field == "--timeout"
    assert words in str(caught.value)


def test_format_duration() -> None:
    assert format_duration(5400) == "1h30m"
    assert format_duration(0.25) == "250ms"
    assert format_duration(86400 + 5) == "1d5s"
