"""Latency of the runs listings on a big job_runs table, as multiples of a primary-key lookup."""

# Usage: python benchmarks/runs_paging.py [--rows N] [--backend sqlite|postgres] [--repeat R]
# (see benchmarks/README.md). Never run from pytest: it takes minutes.

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The project is not installed into the venv; run from a checkout.
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import Connection, bindparam, create_engine, text  # noqa: E402

from core.storage.database import Database, sqlite_url  # noqa: E402
from core.storage.migrate import upgrade  # noqa: E402
from core.storage.tables import JobRun  # noqa: E402
from core.storage.types import UTCDateTime  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEMPLATES = 200
SCHEDULES = 500
DAYS = 90
PAGE = 100
BATCH = 50_000
#: A realistic mix: most runs succeed, a few fail, a handful are still in flight.
STATUS_WEIGHTS = {
    "completed": 86,
    "failed": 7,
    "cancelled": 2,
    "timed_out": 2,
    "lost": 1,
    "running": 1,
    "pending": 1,
}
JOB_TYPES = ("shell", "python", "http", "git")
RUN_COLUMNS = (
    "job_template_id",
    "job_schedule_id",
    "job_name",
    "job_type",
    "status",
    "triggered_by",
    "scheduled_for",
    "queued_at",
    "started_at",
    "completed_at",
    "duration_seconds",
    "attempts",
    "max_attempts",
    "exit_code",
    "worker",
    "host",
    "pid",
    "parameters",
    "template_revision",
    "result",
    "log_size",
    "cancel_requested",
)
KEYSET = "queued_at <= :q AND (queued_at < :q OR id < :i)"
KEYSET_OR = "(queued_at < :q OR (queued_at = :q AND id < :i))"


def listing(where: str = "", offset: int = 0) -> str:
    """One page of runs, newest first."""
    clause = f"WHERE {where} " if where else ""
    tail = f" OFFSET {offset}" if offset else ""
    return f"SELECT * FROM job_runs {clause}ORDER BY queued_at DESC, id DESC LIMIT {PAGE}{tail}"


@dataclass
class Seeded:
    """What the filler created, for picking query parameters."""

    runs: int
    template_ids: list[int]
    schedule_ids: list[int]
    max_run_id: int


@contextmanager
def open_database(backend: str, path: str | None, keep: bool) -> Iterator[Database]:
    """A fresh, migrated database: a new SQLite file or a new PostgreSQL schema."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jobdeck-bench-") as tmp:
            db_path = Path(path) if path else Path(tmp) / "runs.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            db = Database(sqlite_url(db_path))
            upgrade(db)
            try:
                yield db
            finally:
                db.dispose()
        return
    base = os.environ.get("JOBDECK_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    schema = f"jd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}")
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        if keep:
            print(f"kept schema {schema}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _catalogue(db: Database, rng: random.Random) -> tuple[list[int], list[int], dict[int, int]]:
    """200 templates and 500 schedules; returns their ids and each schedule's template."""
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO job_templates (name, job_type, config, parameters, tags, retries, "
                "retry_backoff, retry_delay_seconds, retry_on, is_global, paused, revision, "
                "created_at, updated_at) VALUES (:name, :job_type, '{}', '[]', '[]', 0, "
                "'exponential', 10.0, '[]', true, false, 1, :now, :now)"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            [
                {"name": f"job-{n:03d}", "job_type": JOB_TYPES[n % 4], "now": now}
                for n in range(TEMPLATES)
            ],
        )
        template_ids = list(connection.execute(text("SELECT id FROM job_templates")).scalars())
        schedule_template = [rng.choice(template_ids) for _ in range(SCHEDULES)]
        connection.execute(
            text(
                "INSERT INTO job_schedules (job_identifier, job_template_id, schedule_type, "
                "timezone, is_active, job_parameters, start_deadline_seconds, catchup, "
                "catchup_cap, catchup_window_seconds, overlap, overlap_max, "
                "replace_grace_seconds, jitter, jitter_seconds, created_at, updated_at) VALUES "
                "(:ident, :template_id, 'cron', 'Europe/Riga', true, '{}', 300, 'latest', 10, "
                "86400, 'skip', 1, 10, 'off', 0, :now, :now)"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            [
                {"ident": f"sched-{n:03d}", "template_id": template_id, "now": now}
                for n, template_id in enumerate(schedule_template)
            ],
        )
        rows = connection.execute(text("SELECT id, job_template_id FROM job_schedules")).all()
    return template_ids, [r.id for r in rows], {r.id: r.job_template_id for r in rows}


def _run_rows(
    count: int,
    rng: random.Random,
    template_ids: list[int],
    schedule_template: dict[int, int],
    stamp: Callable[[datetime], Any],
) -> Iterator[tuple[Any, ...]]:
    """Runs in queued_at order over the last 90 days; ``stamp`` renders naive-UTC timestamps."""
    # One pick from a pool of 100 is much cheaper than random.choices per row.
    status_pool = [status for status, weight in STATUS_WEIGHTS.items() for _ in range(weight)]
    schedule_ids = list(schedule_template)
    start = datetime.now(UTC).replace(microsecond=0, tzinfo=None) - timedelta(days=DAYS)
    step_us = DAYS * 86_400_000_000 // count
    for n in range(count):
        # Strictly increasing instants keep (schedule, scheduled_for) unique for schedule runs.
        queued_at = start + timedelta(microseconds=n * step_us + rng.randrange(step_us))
        queued = stamp(queued_at)
        if rng.random() < 0.85:
            schedule_id: int | None = rng.choice(schedule_ids)
            template_id = schedule_template[schedule_id]
            trigger, scheduled_for = "schedule", queued
        else:
            schedule_id, template_id = None, rng.choice(template_ids)
            trigger, scheduled_for = rng.choice(("manual", "retry", "api")), None
        status = status_pool[rng.randrange(len(status_pool))]
        finished = status not in ("pending", "running")
        duration = round(rng.expovariate(1 / 30), 3) if finished else None
        started = queued_at + timedelta(seconds=rng.random())
        yield (
            template_id,
            schedule_id,
            f"job-{template_id:03d}",
            JOB_TYPES[template_id % 4],
            status,
            trigger,
            scheduled_for,
            queued,
            stamp(started) if status != "pending" else None,
            stamp(started + timedelta(seconds=duration)) if duration is not None else None,
            duration,
            1,
            1,
            (0 if status == "completed" else 1) if finished else None,
            "local",
            "host-1",
            rng.randrange(2, 4_000_000),
            "{}",
            1,
            ('{"ok": true}' if status == "completed" else '{"ok": false}') if finished else None,
            rng.randrange(0, 200_000),
            False,
        )


def _sqlite_stamp(value: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy stores it in SQLite (always six fraction digits)."""
    return value.isoformat(" ", "microseconds")


def _postgres_stamp(value: datetime) -> datetime:
    """A naive UTC datetime made aware, so COPY does not apply the session's time zone."""
    return value.replace(tzinfo=UTC)


def fill(db: Database, count: int, seed: int) -> Seeded:
    """Bulk-load ``count`` runs: executemany on SQLite, COPY on PostgreSQL, indexes built last."""
    rng = random.Random(seed)
    template_ids, schedule_ids, schedule_template = _catalogue(db, rng)
    indexes = list(JobRun.__table__.indexes)  # type: ignore[attr-defined]
    stamp = _sqlite_stamp if db.is_sqlite else _postgres_stamp
    rows = _run_rows(count, rng, template_ids, schedule_template, stamp)
    with db.engine.begin() as connection:
        # Building each index once after the load is far cheaper than maintaining seven.
        for index in indexes:
            index.drop(connection)
        raw = connection.connection.driver_connection
        assert raw is not None
        if db.is_sqlite:
            placeholders = ", ".join("?" * len(RUN_COLUMNS))
            sql = f"INSERT INTO job_runs ({', '.join(RUN_COLUMNS)}) VALUES ({placeholders})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    raw.executemany(sql, batch)
                    batch.clear()
            raw.executemany(sql, batch)
        else:
            with raw.cursor() as cursor:
                copy_sql = f"COPY job_runs ({', '.join(RUN_COLUMNS)}) FROM STDIN"
                with cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        for index in indexes:
            index.create(connection)
    with db.engine.connect() as connection:
        connection.execute(text("ANALYZE" if db.is_sqlite else "ANALYZE job_runs"))
        connection.commit()
        max_id = connection.execute(text("SELECT max(id) FROM job_runs")).scalar_one()
    return Seeded(count, template_ids, schedule_ids, int(max_id))


@dataclass
class Query:
    """A named statement and how to pick its parameters for each repetition."""

    name: str
    sql: str
    params: Callable[[], dict[str, Any]]
    note: str = ""

    def run(self, connection: Connection) -> int:
        """Execute once, fetch every row, return how many came back."""
        statement = text(self.sql)
        if ":q" in self.sql:
            statement = statement.bindparams(bindparam("q", type_=UTCDateTime()))
        return len(connection.execute(statement, self.params()).all())


def _page_100_cursor(connection: Connection) -> dict[str, Any]:
    """The (queued_at, id) of the last row of page 99, found once with OFFSET (not timed)."""
    statement = text(
        f"SELECT queued_at, id FROM job_runs ORDER BY queued_at DESC, id DESC "
        f"LIMIT 1 OFFSET {99 * PAGE - 1}"
    ).columns(queued_at=UTCDateTime())
    row = connection.execute(statement).one()
    return {"q": row.queued_at, "i": row.id}


def build_queries(seeded: Seeded, cursor: dict[str, Any], rng: random.Random) -> list[Query]:
    """The listings the runs screen and CLI issue, plus the baseline."""
    return [
        Query(
            "baseline: pk lookup",
            "SELECT id FROM job_runs WHERE id = :id",
            lambda: {"id": rng.randint(1, seeded.max_run_id)},
        ),
        Query("first page, newest 100", listing(), dict),
        Query("page 100, keyset", listing(KEYSET), lambda: cursor, "bounded OR form"),
        Query("page 100, keyset plain OR", listing(KEYSET_OR), lambda: cursor, "no seek"),
        Query("page 100, OFFSET 9900", listing(offset=99 * PAGE), dict, "for contrast"),
        Query("status = 'failed'", listing("status = :s"), lambda: {"s": "failed"}),
        Query(
            "by template (random)",
            listing("job_template_id = :t"),
            lambda: {"t": rng.choice(seeded.template_ids)},
        ),
        Query(
            "by schedule (random)",
            listing("job_schedule_id = :s"),
            lambda: {"s": rng.choice(seeded.schedule_ids)},
        ),
        Query(
            "counts by status",
            "SELECT status, count(*) FROM job_runs GROUP BY status",
            dict,
            "reads every run",
        ),
    ]


def measure(db: Database, queries: list[Query], repeat: int) -> dict[str, list[float]]:
    """Round-robin over the queries ``repeat`` times, so drift hits every query alike."""
    timings: dict[str, list[float]] = {q.name: [] for q in queries}
    with db.engine.connect() as connection:
        for query in queries:
            query.run(connection)  # warm caches and the statement cache
        for _ in range(repeat):
            for query in queries:
                began = time.perf_counter()
                query.run(connection)
                timings[query.name].append((time.perf_counter() - began) * 1000)
            connection.rollback()
    return timings


def percentile(samples: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(queries: list[Query], timings: dict[str, list[float]]) -> str:
    """A small table: p50/p95 in ms and as multiples of the baseline's p50/p95."""
    base = timings[queries[0].name]
    base50, base95 = percentile(base, 0.5), percentile(base, 0.95)
    lines = [
        f"{'query':<28}{'p50 ms':>9}{'p95 ms':>9}{'p50 x':>9}{'p95 x':>9}  note",
        "-" * 80,
    ]
    for query in queries:
        samples = timings[query.name]
        p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        lines.append(
            f"{query.name:<28}{p50:>9.3f}{p95:>9.3f}{p50 / base50:>9.1f}{p95 / base95:>9.1f}"
            f"  {query.note}"
        )
    return "\n".join(lines)


def explain(db: Database, queries: list[Query]) -> str:
    """Each query's plan, to tell an index walk from a sort."""
    out = io.StringIO()
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    with db.engine.connect() as connection:
        for query in queries:
            statement = text(prefix + query.sql)
            if ":q" in query.sql:
                statement = statement.bindparams(bindparam("q", type_=UTCDateTime()))
            plan = connection.execute(statement, query.params()).all()
            out.write(f"-- {query.name}\n")
            for row in plan:
                out.write(f"   {row[-1]}\n")
    return out.getvalue()


def main() -> None:
    """Parse arguments, fill, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--path", help="SQLite file to (re)create instead of a temporary one")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    args = parser.parse_args()

    with open_database(args.backend, args.path, args.keep) as db:
        began = time.perf_counter()
        seeded = fill(db, args.rows, args.seed)
        print(f"{args.backend}: loaded {seeded.runs:,} runs in {time.perf_counter() - began:.1f} s")
        with db.engine.connect() as connection:
            cursor = _page_100_cursor(connection)
        queries = build_queries(seeded, cursor, random.Random(args.seed))
        if args.explain:
            print(explain(db, queries))
        timings = measure(db, queries, args.repeat)
        print(f"{args.repeat} repetitions each; 'x' = multiple of the baseline's p50/p95\n")
        print(report(queries, timings))


if __name__ == "__main__":
    main()
