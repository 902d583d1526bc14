"""SQL helpers: bulk statements on the DBAPI cursor (the burst path), dialect upserts.

Recording ten thousand occurrences means thirty thousand parameter sets. Through Core, each
one goes through SQLAlchemy's per-row compilation and every column's bind processor, which
costs five times what SQLite itself spends and holds the interpreter lock the event loop needs.
Here the SQL is plain text (simple column lists, portable between SQLite and PostgreSQL),
values still pass through the columns' own type processors (aware UTC datetimes, JSON,
booleans), but constant columns are processed once per statement and repeated values once per
statement (a burst shares a handful of instants). Results are converted the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Dialect, Table
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

Processor = Callable[[Any], Any] | None
# Building a processor can be slow (SQLite's datetime one compiles a regular expression), and
# binders are made per transaction, so processors are kept per dialect class and column.
_PROCESSORS: dict[tuple[type[Dialect], Column[Any], bool], Processor] = {}


class Binder:
    """One dialect's placeholders and per-column value processors, memoised per value."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.is_sqlite = dialect.name == "sqlite"
        self.placeholder = "?" if self.is_sqlite else "%s"

    @classmethod
    def of(cls, session: Session) -> Binder:
        """The binder of the session's dialect."""
        return cls(session.get_bind().dialect)

    def placeholders(self, count: int) -> str:
        """``?, ?, ?`` (SQLite) or ``%s, %s, %s`` (psycopg)."""
        return ", ".join([self.placeholder] * count)

    def bind_processor(self, column: Column[Any]) -> Processor:
        """The column type's bind processor on this dialect (None: values pass as they are)."""
        key = (type(self.dialect), column, False)
        if key not in _PROCESSORS:
            # The dialect's own variant of the type: SQLite stores datetimes as text.
            impl = column.type.dialect_impl(self.dialect)
            _PROCESSORS[key] = impl.bind_processor(self.dialect)
        return _PROCESSORS[key]

    def result_processor(self, column: Column[Any]) -> Processor:
        """The column type's result processor on this dialect."""
        key = (type(self.dialect), column, True)
        if key not in _PROCESSORS:
            impl = column.type.dialect_impl(self.dialect)
            _PROCESSORS[key] = impl.result_processor(self.dialect, None)
        return _PROCESSORS[key]

    def bind(self, column: Column[Any], value: Any) -> Any:
        """One Python value as the driver wants it."""
        processor = self.bind_processor(column)
        return value if processor is None else processor(value)

    def converter(self, column: Column[Any], *, results: bool) -> Callable[[Any], Any]:
        """A value converter for many rows, memoising hashable values."""
        processor = self.result_processor(column) if results else self.bind_processor(column)
        if processor is None:
            return _same
        process = processor
        memo: dict[Any, Any] = {}
        # Unhashable values (JSON dicts) are memoised by identity; keeping the object in the
        # memo keeps its id from being reused while this converter lives.
        by_id: dict[int, tuple[Any, Any]] = {}

        def convert(value: Any) -> Any:
            if value is None:
                return process(value)
            try:
                found = memo.get(value, _MISSING)
            except TypeError:
                held = by_id.get(id(value))
                if held is None:
                    held = by_id[id(value)] = (value, process(value))
                return held[1]
            if found is _MISSING:
                found = memo[value] = process(value)
            return found

        return convert

    def insert(
        self,
        session: Session,
        table: Table,
        varying: Sequence[str],
        rows: Sequence[Sequence[Any]],
        constant: Mapping[str, Any] | None = None,
        *,
        ignore_duplicates: bool = False,
    ) -> int:
        """INSERT many rows: ``varying`` values per row, ``constant`` ones shared by all.

        Returns how many rows were inserted (duplicates ignored do not count).
        """
        if not rows:
            return 0
        constant = constant or {}
        names = [*varying, *constant]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({self.placeholders(len(names))})"
        )
        if ignore_duplicates:
            # No conflict target: any unique key (the partial run index too) makes it a no-op.
            sql += " ON CONFLICT DO NOTHING"
        fixed = [self.bind(table.c[name], value) for name, value in constant.items()]
        converting = [
            (index, convert)
            for index, name in enumerate(varying)
            if (convert := self.converter(table.c[name], results=False)) is not _same
        ]
        params = []
        for row in rows:
            values = list(row)
            for index, convert in converting:
                values[index] = convert(values[index])
            values.extend(fixed)
            params.append(tuple(values))  # the driver layer takes tuples, not lists
        result = session.connection().exec_driver_sql(sql, params)
        return int(result.rowcount or 0)

    def execute_many(self, session: Session, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Run a statement (already bound values) once per parameter set."""
        if params:
            session.connection().exec_driver_sql(sql, list(params))

    def select(self, session: Session, sql: str, params: Sequence[Any]) -> list[Any]:
        """Raw rows of a query (convert with ``converter(..., results=True)``)."""
        return list(session.connection().exec_driver_sql(sql, tuple(params)).fetchall())


class _Missing:
    pass


_MISSING = _Missing()


def _same(value: Any) -> Any:
    return value


def insert_ignoring_duplicates(session: Session, table: Table) -> Any:
    """A Core ``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect.

    No conflict target: any unique key (including the partial index on scheduled runs) makes
    a duplicate a no-op, which is what keeps a re-fire after a crash harmless (F4).
    """
    if session.get_bind().dialect.name == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    # Imported here: loading the PostgreSQL dialect costs a SQLite process ~20 ms at start.
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert(table).on_conflict_do_nothing()


def rowcount(result: Any) -> int:
    """Rows a DML statement touched (0 when the driver cannot tell)."""
    return int(getattr(result, "rowcount", 0) or 0)
