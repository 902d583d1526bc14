"""Template config and parameter edits: --config KEY=VALUE typed by the job type's schema,
and the merges `template update` applies to the current config and parameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from console.commands.options import split_pair
from core.backend.protocol import Backend
from core.errors import ValidationFailed
from core.jobs.parameters import ParameterSpec, parse_parameter_declaration


async def job_type_schema(backend: Backend, job_type: str) -> dict[str, Any]:
    """The config JSON schema of a job type, or an error listing the installed ones."""
    types = {t.name: t for t in await backend.job_types()}
    if job_type not in types:
        installed = ", ".join(sorted(types))
        raise ValidationFailed("--type", f"unknown job type {job_type!r} (installed: {installed})")
    return types[job_type].config_schema


def _schema_types(prop: dict[str, Any]) -> set[str]:
    """The JSON types a property accepts (null excluded)."""
    if "type" in prop:
        kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        return {k for k in kinds if k != "null"}
    found: set[str] = set()
    for alternative in prop.get("anyOf", []) + prop.get("oneOf", []):
        found |= _schema_types(alternative)
    return found or {"any"}


_JSON_KINDS = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _kind(value: Any) -> str:
    """The JSON schema type of a parsed value."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return _JSON_KINDS.get(type(value), "null")


def _typed(raw: str, prop: dict[str, Any]) -> Any:
    """A value for a property: strings stay strings; other types parse as JSON when the result
    has a type the schema accepts, else the raw string goes on for the model to judge."""
    kinds = _schema_types(prop)
    if kinds == {"string"}:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    kind = _kind(value)
    if "any" in kinds or kind in kinds or (kind == "integer" and "number" in kinds):
        return value
    if "array" in kinds:
        # One item given for a list key: 200 becomes [200]; a string stays whole, so a shell
        # command such as "true" or "echo hello" reaches the model (which splits it) intact.
        item = _typed(raw, prop.get("items", {}))
        return raw if isinstance(item, str) else [item]
    return raw


def config_values(
    pairs: list[str],
    schema: dict[str, Any],
    job_type: str,
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Turn --config KEY=VALUE options into config entries typed by the job type's JSON schema;
    KEY.SUB=VALUE entries extend the object already in ``base`` (update merges)."""
    props: dict[str, Any] = schema.get("properties", {})
    closed = schema.get("additionalProperties") is False
    result: dict[str, Any] = {}
    repeated: set[str] = set()
    for pair in pairs:
        key, raw = split_pair(pair, "--config")
        top, _, sub = key.partition(".")
        if closed and top not in props:
            known = ", ".join(props) or "none"
            raise ValidationFailed(
                f"--config {top}", f"not a {job_type} config key (known: {known})"
            )
        prop = props.get(top, {})
        if sub:  # KEY.SUB=VALUE sets one entry of an object field (e.g. env.PATH=/bin)
            if "object" not in _schema_types(prop) and "any" not in _schema_types(prop):
                raise ValidationFailed(f"--config {top}", "is not an object; drop the '.'")
            entry = prop.get("additionalProperties")
            if top not in result:
                result[top] = dict((base or {}).get(top) or {})
            elif not isinstance(result[top], dict):
                raise ValidationFailed(f"--config {top}", "given both whole and as KEY.SUB")
            result[top][sub] = _typed(raw, entry if isinstance(entry, dict) else {})
            continue
        if top in result:
            if "array" not in _schema_types(prop):
                raise ValidationFailed(
                    f"--config {top}", "given twice; only list keys may repeat (values append)"
                )
            if top not in repeated:
                first = result[top]
                result[top] = first if isinstance(first, list) else [first]
                repeated.add(top)
            result[top].append(_typed(raw, prop.get("items", {})))
            continue
        result[top] = _typed(raw, prop)
    return result


async def merged_params(backend: Backend, args: argparse.Namespace) -> tuple[ParameterSpec, ...]:
    """Current declarations, minus --drop-param / --no-params, with --param added or replaced."""
    current = () if args.no_params else (await backend.get_template(args.name)).parameters
    # Secret defaults come back masked; the backend keeps the stored secret for a masked value.
    by_name = {p.name: p for p in current}
    for name in args.drop_param or ():
        if by_name.pop(name, None) is None:
            raise ValidationFailed(f"--drop-param {name}", "no such parameter")
    for text in args.param or ():
        spec = parse_parameter_declaration(text)
        by_name[spec.name] = spec
    return tuple(by_name.values())


async def merged_config(backend: Backend, args: argparse.Namespace) -> dict[str, Any]:
    current = await backend.get_template(args.name)
    schema = await job_type_schema(backend, current.job_type)
    merged = dict(current.config)
    for key in args.unset_config or ():
        top, _, sub = key.partition(".")
        if top not in merged or (sub and sub not in (merged[top] or {})):
            raise ValidationFailed(f"--unset-config {key}", "is not set in the config")
        if sub:
            merged[top] = {k: v for k, v in merged[top].items() if k != sub}
        else:
            del merged[top]
    changes = config_values(args.config or [], schema, current.job_type, base=merged)
    return {**merged, **changes}
