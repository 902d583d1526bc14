"""Runs pages as raw driver rows decoded straight into RunViews (the runs listing's hot path).

For a page of 100 runs, SQLAlchemy's per-value result processing (a TypeDecorator around the
dialect's datetime parser, the JSON type's deserialiser) and pydantic's validation of every
view cost several times the query itself. So on SQLite the page statement selects its columns
untyped and each column is decoded here by one plain function chosen once per column type;
sqlite3 hands back the text SQLAlchemy stored (ISO datetimes in UTC without offset, JSON
text). On every database the views are then built from the already-typed values without
validating them a second time. tests/core/jobs/test_run_rows.py holds both databases' views
to be exactly the ORM path's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Select, select, type_coerce
from sqlalchemy.types import NULLTYPE

from core.backend.views import RUN_STATUSES, TRIGGERS, RunView
from core.jobs.parameters import MASK
from core.settings.secrets import is_sealed
from core.storage.tables import JobRun, JobSchedule, JobTemplate
from core.storage.types import UTCDateTime

RUNS = JobRun.__table__  # type: ignore[attr-defined]
_SCHEDULES = JobSchedule.__table__  # type: ignore[attr-defined]
_TEMPLATES = JobTemplate.__table__  # type: ignore[attr-defined]

#: View fields that come from the joined schedule and template, not from job_runs.
_JOINED = {
    "schedule_name": _SCHEDULES.c.job_identifier,
    "template_name": _TEMPLATES.c.name,
}

Decoder = Callable[[Any], Any]

_json_decoder = json.JSONDecoder()
#: len("2026-03-01 08:00:00.000000"): SQLAlchemy's SQLite datetime text, always with microseconds
_STORED_LENGTH = 26


def utc_datetime(value: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (what the UTCDateTime column reads back)."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: ISO text, as SQLAlchemy wrote it (UTC, no offset)
        if len(value) == _STORED_LENGTH:
            # Parsing with the offset appended is several times cheaper than replace(tzinfo=).
            try:
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:
                pass  # not the stored form after all: the general path decides
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def json_value(value: Any) -> Any:
    """A stored JSON value decoded (drivers that decode JSON themselves hand it over as is)."""
    if not isinstance(value, str):  # None, a value psycopg decoded, or a bare SQLite number
        return value
    # raw_decode skips json.loads' wrapper; text it does not take whole (whitespace around
    # the value, trailing garbage) goes through json.loads for its exact answer or error.
    try:
        decoded, end = _json_decoder.raw_decode(value)
    except json.JSONDecodeError:
        return json.loads(value)
    if end != len(value):
        return json.loads(value)
    return decoded


def _sqlite_decoder(column: Any) -> Decoder | None:
    if isinstance(column.type, UTCDateTime):
        return utc_datetime
    if isinstance(column.type, JSON):
        return json_value
    return None  # integers, floats and strings come from sqlite3 as they are


#: The page's columns, in RunView field order (a constructed view serialises in dict order).
_COLUMNS = [_JOINED.get(name, RUNS.c.get(name)) for name in RunView.model_fields]
if any(column is None for column in _COLUMNS):  # pragma: no cover - a schema/view mismatch
    raise RuntimeError("every RunView field needs a job_runs column or a joined name")
#: The page's column names (RunView's fields), in select order.
NAMES: tuple[str, ...] = tuple(RunView.model_fields)


def _page_select(typed: bool) -> Select[Any]:
    columns = [
        (column if typed else type_coerce(column, NULLTYPE)).label(name)
        for name, column in zip(NAMES, _COLUMNS, strict=True)
    ]
    return select(*columns).select_from(
        RUNS.outerjoin(_SCHEDULES, _SCHEDULES.c.id == RUNS.c.job_schedule_id).outerjoin(
            _TEMPLATES, _TEMPLATES.c.id == RUNS.c.job_template_id
        )
    )


@dataclass(frozen=True)
class PageRows:
    """How one kind of database reads runs pages: the statement (refined per query with
    where, order and limit; statements are immutable) and the decoder of each column."""

    statement: Select[Any]
    decoders: tuple[tuple[int, Decoder], ...]

    def views(self, rows: Sequence[Sequence[Any]]) -> tuple[RunView, ...]:
        """RunViews of rows of ``statement``, in order."""
        views = []
        for row in rows:
            values = list(row)
            for index, decode in self.decoders:
                values[index] = decode(values[index])
            data = dict(zip(NAMES, values, strict=True))
            data["parameters"] = masked(data["parameters"])
            views.append(_view(data))
        return tuple(views)


#: SQLite: untyped columns (no result processing), decoded here.
SQLITE_ROWS = PageRows(
    _page_select(typed=False),
    tuple(
        (index, decoder)
        for index, column in enumerate(_COLUMNS)
        if (decoder := _sqlite_decoder(column)) is not None
    ),
)
#: Other databases: typed columns, processed by SQLAlchemy exactly as the ORM's are (drivers
#: differ in what they decode themselves; psycopg, for one, decodes JSON).
TYPED_ROWS = PageRows(_page_select(typed=True), ())


def page_rows(dialect: str) -> PageRows:
    """How a database of the ``dialect`` (SQLAlchemy's name) reads runs pages."""
    return SQLITE_ROWS if dialect == "sqlite" else TYPED_ROWS


def masked(parameters: Any) -> Any:
    """Parameter values with sealed secrets replaced by the mask."""
    if not parameters:
        return {}
    if not isinstance(parameters, dict):
        return parameters  # not a mapping: the view's validation reports it
    return {key: MASK if is_sealed(value) else value for key, value in parameters.items()}


def constructible(model: type[BaseModel]) -> bool:
    """True when validating ``model`` only checks types: no validators, no constraints or
    other metadata on a field, no post-init (so building it from typed values loses nothing).
    """
    decorators = model.__pydantic_decorators__
    return (
        not decorators.validators
        and not decorators.field_validators
        and not decorators.root_validators
        and not decorators.model_validators
        and model.__pydantic_post_init__ is None
        and not any(field.metadata for field in model.model_fields.values())
    )


#: RunView may be built from decoded values without validating them (tests keep it so).
_CONSTRUCT = constructible(RunView)
_FIELDS = frozenset(NAMES)
_STATUSES = frozenset(RUN_STATUSES)
_TRIGGERS = frozenset(TRIGGERS)
_new = object.__new__
_set = object.__setattr__


def _view(data: dict[str, Any]) -> RunView:
    """The view of decoded values: built as ``model_construct`` builds one, without its
    per-field Python loop, when the values the column types do not pin down are valid."""
    if (
        _CONSTRUCT
        and data["status"] in _STATUSES
        and data["triggered_by"] in _TRIGGERS
        and type(data["parameters"]) is dict
    ):
        view = _new(RunView)
        _set(view, "__dict__", data)
        _set(view, "__pydantic_fields_set__", set(_FIELDS))
        _set(view, "__pydantic_extra__", None)
        _set(view, "__pydantic_private__", None)
        return view
    return RunView.model_validate(data)  # a value outside the view's types: say which
