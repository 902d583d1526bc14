"""Schemathesis against the OpenAPI document: whatever it sends, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from core.api.app import create_app
from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.backend.local import LocalBackend
from core.jobs.audit import Actor
from core.settings.secrets import SecretBox
from core.storage.database import Database, sqlite_url
from core.storage.migrate import upgrade

from .conftest import FAST, make_tokens

TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app on a seeded database, as a schemathesis schema (admin token on every call)."""
    home = tmp_path_factory.mktemp("schemathesis")
    db = Database(sqlite_url(Path(home) / "jobdeck.db"))
    upgrade(db)
    backend = LocalBackend(
        db, actor=Actor("api", "api"), default_zone="UTC", secrets=SecretBox(home / "key")
    )
    backend.templates.create(
        TemplateSpec(name="hello", job_type="shell", config={"command": "echo hi"})
    )
    backend.schedules.create(
        ScheduleSpec(
            job_identifier="nightly",
            template="hello",
            schedule_type="daily",
            time_of_day="02:00",
            timezone="UTC",
        )
    )
    TOKENS.update(make_tokens(db))
    app = create_app(backend, db, FAST)
    app.state.jobdeck.closing.set()  # streams send their first events and end
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    db.dispose()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKENS['admin']}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
