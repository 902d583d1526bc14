"""The executor's hot statements, compiled once per dialect and run on the DBAPI cursor.

Claiming and finishing runs execute a handful of statements per batch, thousands of times
a minute at full speed. SQLAlchemy's per-call work (cache key, parameter processing, result
set-up) costs several times what SQLite itself spends, and it holds the interpreter lock the
event loop needs. A ``Prepared`` statement is still written with SQLAlchemy Core (so it is
portable and typed); it is compiled once for the connection's dialect, its parameters go
through the same type processors (aware datetimes, JSON), and it runs inside the caller's
transaction. Statements with expanding ``IN`` lists are not supported (use Core for those).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Form:
    sql: str
    #: bind names in order (positional paramstyles), or None (named paramstyles)
    order: tuple[str, ...] | None
    #: per bind name: its fixed value (for binds the statement itself carries) and processor
    fixed: dict[str, Any]
    processors: dict[str, Processor]
    results: tuple[Processor, ...]


class Prepared:
    """A Core statement run straight on the DBAPI cursor of the current transaction."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is not None:
            return form
        compiled: Any = self.statement.compile(dialect=dialect)  # a SQLCompiler
        binds = compiled.binds
        fixed = {name: bind.value for name, bind in binds.items() if not bind.required}
        # dialect_impl: the dialect's own variant of each type (SQLite stores datetimes as text).
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in binds.items()
        }
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        results: tuple[Processor, ...] = ()
        selected = getattr(self.statement, "selected_columns", None)
        if selected is not None:
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in selected
            )
        form = _Form(compiled.string, order, fixed, processors, results)
        self._forms[dialect.name] = form
        return form

    def _params(self, form: _Form, row: Mapping[str, Any]) -> Any:
        values = {**form.fixed, **row}
        for name, processor in form.processors.items():
            if processor is not None and name in values:
                values[name] = processor(values[name])
        if form.order is None:
            return {name: values[name] for name in form.processors}
        return tuple(values[name] for name in form.order)

    def executemany(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run once per row; the total row count."""
        if not rows:
            return 0
        form = self._form(connection.dialect)
        cursor = connection.connection.cursor()
        try:
            params = [self._params(form, row) for row in rows]
            if len(params) == 1:
                cursor.execute(form.sql, params[0])
            else:
                cursor.executemany(form.sql, params)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def fetch(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query; its rows with the columns' result processors applied."""
        form = self._form(connection.dialect)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(form.sql, self._params(form, params))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        processors = form.results
        if not any(processors):
            return [tuple(row) for row in rows]
        return [
            tuple(
                p(value) if p is not None else value
                for p, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]
