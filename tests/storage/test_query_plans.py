"""The runs listings page through their indexes, newest first, without sorting the table."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Integer, bindparam, insert, text
from sqlmodel import Session

from core.storage.database import Database
from core.storage.tables import JobRun
from core.storage.types import UTCDateTime

from .factories import T0, make_run, make_schedule, make_template

PAGE = 100
STATUSES = ("pending", "running", "completed", "failed", "cancelled", "timed_out", "lost")
RUNS = 7_000
TEMPLATES = 20
SCHEDULES = 50

#: Listing name -> (filter, index that must serve it).
LISTINGS = {
    "newest": ("", "ix_job_runs_queued"),
    "status": ("status = :status", "ix_job_runs_status_queued"),
    "template": ("job_template_id = :template_id", "ix_job_runs_template_queued"),
    "schedule": ("job_schedule_id = :schedule_id", "ix_job_runs_schedule_queued"),
}
#: Keyset form -> (predicate after the last row seen, whether planners seek with it).
#: Findings on SQLite 3.40 and PostgreSQL 15; all three forms return the same pages:
#: - "or", the textbook portable form, walks the right index backwards with no sort, but
#:   neither planner turns the OR into a range: both start at the newest row and filter, so
#:   page N reads N pages of index entries.
#: - "row_value" seeks on both (SQLite "queued_at<?", PostgreSQL "ROW(...) < ROW(...)").
#: - "bounded_or" is portable SQL and seeks on both: "queued_at <= :q" bounds the range and
#:   the OR only filters the rows that tie on queued_at. This is the form to use.
KEYSETS = {
    "first_page": ("", False),
    "or": ("(queued_at < :q OR (queued_at = :q AND id < :i))", False),
    "row_value": ("(queued_at, id) < (:q, :i)", True),
    "bounded_or": ("queued_at <= :q AND (queued_at < :q OR id < :i)", True),
}


def listing_sql(listing: str, keyset: str, limit: int = 100) -> str:
    """The SQL of one runs page: a filter, a keyset cursor, newest first."""
    conditions = [c for c in (LISTINGS[listing][0], KEYSETS[keyset][0]) if c]
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    return f"SELECT * FROM job_runs {where}ORDER BY queued_at DESC, id DESC LIMIT {limit}"


def _statement(sql: str) -> Any:
    """``sql`` as a text clause whose cursor timestamp binds like the column it is compared to."""
    statement = text(sql)
    if ":q" in sql:
        statement = statement.bindparams(bindparam("q", type_=UTCDateTime()))
    return statement


def _params(sql: str, values: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters ``sql`` names."""
    return {name: value for name, value in values.items() if f":{name}" in sql}


@pytest.fixture(scope="module")
def runs_database(module_database: Database) -> tuple[Database, dict[str, Any]]:
    """A migrated database with 7,000 runs over 20 templates and 50 schedules, read only."""
    with module_database.write() as session:
        templates = [make_template(f"t{n}") for n in range(TEMPLATES)]
        session.add_all(templates)
        session.flush()
        schedules = [
            make_schedule(templates[n % TEMPLATES].id or 0, f"s{n}") for n in range(SCHEDULES)
        ]
        session.add_all(schedules)
        session.flush()
        runs = [
            make_run(
                status=STATUSES[n % len(STATUSES)],
                job_template_id=templates[n % TEMPLATES].id,
                job_schedule_id=schedules[n % SCHEDULES].id,
                # Three runs share each instant, so cursors must break ties by id.
                queued_at=T0 + timedelta(minutes=n // 3),
            ).model_dump(exclude={"id"})
            for n in range(RUNS)
        ]
        session.execute(insert(JobRun), runs)
        values = {
            "status": "failed",
            "template_id": templates[2].id,
            "schedule_id": schedules[3].id,
            "q": T0 + timedelta(minutes=RUNS // 6),
            "i": RUNS // 2,
        }
    with module_database.engine.begin() as connection:
        # Fresh statistics, so PostgreSQL does not choose differently when autovacuum runs.
        connection.execute(text("ANALYZE" if module_database.is_sqlite else "ANALYZE job_runs"))
    return module_database, values


def _sqlite_plan(connection: Connection, sql: str, values: dict[str, Any]) -> list[str]:
    """The detail lines of SQLite's EXPLAIN QUERY PLAN."""
    rows = connection.execute(_statement(f"EXPLAIN QUERY PLAN {sql}"), _params(sql, values))
    return [str(row[-1]) for row in rows]


def _postgres_plan(
    connection: Connection, sql: str, values: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every node of PostgreSQL's plan, with sequential and bitmap scans priced out."""
    # On a small table fetching all matches and sorting them can be cheapest; what matters
    # here is that an index serves the order (benchmarks/runs_paging.py shows 1M rows).
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    connection.execute(text("SET LOCAL enable_bitmapscan = off"))
    statement = _statement(f"EXPLAIN (FORMAT JSON) {sql}")
    plan = connection.execute(statement, _params(sql, values)).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    nodes, pending = [], [plan[0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes


@pytest.mark.parametrize("keyset", list(KEYSETS))
@pytest.mark.parametrize("listing", list(LISTINGS))
def test_runs_listing_uses_its_index_without_sorting(
    runs_database: tuple[Database, dict[str, Any]], listing: str, keyset: str
) -> None:
    """Each listing walks its (filter, queued_at, id) index backwards; keysets seek where noted."""
    db, values = runs_database
    sql = listing_sql(listing, keyset)
    index = LISTINGS[listing][1]
    seeks = KEYSETS[keyset][1]
    with db.engine.begin() as connection:
        if db.is_sqlite:
            details = _sqlite_plan(connection, sql, values)
            assert not any("TEMP B-TREE" in line for line in details), details
            scans = [line for line in details if f"INDEX {index}" in line]
            assert scans, details
            assert "USING INDEX" in scans[0] or "USING COVERING INDEX" in scans[0], details
            if seeks:
                assert "queued_at<?" in scans[0], details
        else:
            nodes = _postgres_plan(connection, sql, values)
            assert not any("Sort" in node["Node Type"] for node in nodes), nodes
            # Runs are inserted in queued_at order, so PostgreSQL may rate walking
            # ix_job_runs_queued and filtering (sequential heap reads) below the filter's own
            # index; both serve the order without a sort.
            allowed = {index, LISTINGS["newest"][1]}
            scans = [node for node in nodes if node.get("Index Name") in allowed]
            assert scans, nodes
            assert scans[0]["Node Type"] in ("Index Scan", "Index Only Scan"), nodes
            assert scans[0]["Scan Direction"] == "Backward", nodes
            if seeks:
                assert "queued_at" in scans[0].get("Index Cond", ""), nodes


def _page(session: Session, sql: str, values: dict[str, Any]) -> list[tuple[datetime, int]]:
    """(queued_at, id) of every row ``sql`` returns."""
    statement = _statement(sql).columns(queued_at=UTCDateTime(), id=Integer())
    return [(row.queued_at, row.id) for row in session.execute(statement, _params(sql, values))]


@pytest.mark.parametrize("keyset", ["or", "row_value", "bounded_or"])
@pytest.mark.parametrize("listing", ["newest", "status"])
def test_keyset_pages_cover_every_run_once_in_order(
    runs_database: tuple[Database, dict[str, Any]], listing: str, keyset: str
) -> None:
    """Following the cursor page by page yields exactly the full listing, ties included."""
    db, values = runs_database
    with db.read() as session:
        expected = _page(session, listing_sql(listing, "first_page", limit=RUNS), values)
        seen: list[tuple[datetime, int]] = []
        page = _page(session, listing_sql(listing, "first_page", limit=PAGE), values)
        while page:
            seen.extend(page)
            cursor = {"q": page[-1][0], "i": page[-1][1]}
            page = _page(session, listing_sql(listing, keyset, limit=PAGE), values | cursor)

    assert expected == sorted(expected, reverse=True)
    assert len(expected) == (RUNS if listing == "newest" else RUNS // len(STATUSES))
    assert seen == expected
