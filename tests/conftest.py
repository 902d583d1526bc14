"""Fixtures shared by the whole suite: database URLs and migrated databases on both backends."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

#: The repository root; the project is not installed into the venv, so tests import from here.
REPO_ROOT = Path(__file__).resolve().parent.parent
# pytest puts tests/ on sys.path, where the empty tests/core/ folder would otherwise pass for
# the `core` package as a namespace package; the real package must be importable first.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from core.storage.database import Database, sqlite_url  # noqa: E402
from core.storage.migrate import upgrade  # noqa: E402

#: Where the PostgreSQL tests connect; each test gets its own schema inside this database.
POSTGRES_URL_ENV = "JOBDECK_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Set to 1 to skip (rather than fail) every PostgreSQL-backed test.
SKIP_POSTGRES_ENV = "JOBDECK_TEST_SKIP_POSTGRES"


def postgres_base_url() -> str:
    """The PostgreSQL server URL the tests use (env ``JOBDECK_TEST_POSTGRES_URL``)."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def postgres_schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with every connection's search_path (and application name) set to ``schema``."""
    separator = "&" if "?" in base_url else "?"
    # application_name lets teardown find connections a test forgot to close.
    return f"{base_url}{separator}options=-csearch_path%3D{schema}&application_name={schema}"


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[Engine]:
    """An autocommit engine on the PostgreSQL server; fails the test if it is unreachable."""
    if os.environ.get(SKIP_POSTGRES_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped because {SKIP_POSTGRES_ENV}=1")
    url = postgres_base_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    problem = None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        problem = f"{type(exc).__name__}: {getattr(exc, 'orig', exc)}".strip()
    if problem is not None:
        engine.dispose()
        # CI must go red when the server is missing, so this is a failure, never a skip.
        pytest.fail(
            f"PostgreSQL at {engine.url.render_as_string(hide_password=True)} is unreachable "
            f"({problem}). Start it, point {POSTGRES_URL_ENV} at a server, or set "
            f"{SKIP_POSTGRES_ENV}=1 to skip the PostgreSQL tests.",
            pytrace=False,
        )
    yield engine
    engine.dispose()


@contextmanager
def postgres_schema(admin_engine: Engine) -> Iterator[str]:
    """A URL whose connections live in a fresh PostgreSQL schema, dropped on exit."""
    schema = f"jd_{uuid.uuid4().hex[:12]}"
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(postgres_base_url(), schema)
    finally:
        with admin_engine.connect() as connection:
            # A connection left open by the test would hold locks and make DROP wait forever.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :schema AND pid <> pg_backend_pid()"
                ),
                {"schema": schema},
            )
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def postgres_db_url(postgres_admin_engine: Engine) -> Iterator[str]:
    """A PostgreSQL URL whose connections live in a fresh schema, dropped after the test."""
    with postgres_schema(postgres_admin_engine) as url:
        yield url


@pytest.fixture
def sqlite_db_url(tmp_path: Path) -> str:
    """The URL of a SQLite file (not yet created) in the test's temporary directory."""
    return sqlite_url(tmp_path / "jobdeck.db")


#: The two backends every database fixture is parametrized over.
BACKEND_PARAMS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKEND_PARAMS)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend: a SQLite file, then a private PostgreSQL schema."""
    fixture_name = "sqlite_db_url" if request.param == "sqlite" else "postgres_db_url"
    url: str = request.getfixturevalue(fixture_name)
    return url


def _open_migrated(url: str) -> Database:
    """A Database on ``url`` brought to the newest schema."""
    db = Database(url)
    upgrade(db)
    return db


@pytest.fixture
def empty_database(db_url: str) -> Iterator[Database]:
    """A Database on each backend with no schema at all (for migration tests)."""
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests get copies (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "jobdeck.db"
    db = _open_migrated(sqlite_url(path))
    db.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_session_url(postgres_admin_engine: Engine) -> Iterator[str]:
    """One migrated PostgreSQL schema per session; each test starts from emptied tables."""
    with postgres_schema(postgres_admin_engine) as url:
        db = _open_migrated(url)
        db.dispose()
        yield url


_DATA_TABLES = (
    "audit_log, job_run_log_chunks, occurrences, job_run_attempts, job_runs, "
    "job_template_revisions, job_schedules, job_templates, workers, owner_lease, system_state, "
    "changes, idempotency_keys, api_tokens"
)


@pytest.fixture
def fresh_sqlite_database(_sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database of this test's own (a copy of the session template)."""
    path = tmp_path / "jobdeck.db"
    shutil.copyfile(_sqlite_template, path)
    path.chmod(0o600)
    db = Database(sqlite_url(path))
    upgrade(db)  # a no-op at head; keeps the fixture honest if the template is stale
    yield db
    db.dispose()


@pytest.fixture
def fresh_postgres_database(_postgres_session_url: str) -> Iterator[Database]:
    """The session's migrated PostgreSQL schema with every table emptied for this test."""
    db = Database(_postgres_session_url)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {_DATA_TABLES} RESTART IDENTITY CASCADE"))
    yield db
    db.dispose()


@pytest.fixture(params=BACKEND_PARAMS)
def database(request: pytest.FixtureRequest) -> Database:
    """A migrated, empty Database on each backend; use it for service and storage tests."""
    name = "fresh_sqlite_database" if request.param == "sqlite" else "fresh_postgres_database"
    db: Database = request.getfixturevalue(name)
    return db


@pytest.fixture
def sqlite_database(sqlite_db_url: str) -> Iterator[Database]:
    """A Database on a SQLite file only, migrated to head."""
    db = _open_migrated(sqlite_db_url)
    yield db
    db.dispose()


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated Database on each backend shared by a module's tests (seed once, then read)."""
    # Nothing is rolled back between the tests that share it: use it for read-only checks.
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = sqlite_url(tmp_path_factory.mktemp("module_db") / "jobdeck.db")
        else:
            admin_engine = request.getfixturevalue("postgres_admin_engine")
            url = stack.enter_context(postgres_schema(admin_engine))
        db = _open_migrated(url)
        stack.callback(db.dispose)
        yield db
