"""The fake backend's own promises: seeded data that covers every case, same on every call."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.backend.fake import DEFAULT_START, FakeBackend
from core.backend.inputs import RunQuery, TemplateSpec
from core.backend.views import RUN_STATUSES, SCHEDULE_TYPES, TRIGGERS
from core.clock import ManualClock
from core.errors import PermissionDenied


@pytest.fixture
def seeded() -> FakeBackend:
    """The seeded fake at its default start."""
    return FakeBackend.seeded(ManualClock(DEFAULT_START))


async def test_templates_cover_every_job_type_and_a_broken_one(seeded: FakeBackend) -> None:
    templates = await seeded.list_templates()
    assert len(templates) == 8
    assert {t.job_type for t in templates} >= {"shell", "python", "http", "git"}
    broken = [t for t in templates if t.broken]
    assert [(t.name, t.job_type) for t in broken] == [("legacy-inventory", "ansible")]
    assert "backup [daily]" in {t.name for t in templates}
    assert all(t.tags for t in templates)
    assert any(p.secret for t in templates for p in t.parameters)


async def test_schedules_cover_every_type_zones_and_a_paused_one(seeded: FakeBackend) -> None:
    schedules = await seeded.list_schedules()
    assert len(schedules) == 10
    assert {s.schedule_type for s in schedules} == set(SCHEDULE_TYPES)
    assert len({s.timezone for s in schedules}) >= 4
    paused = [s for s in schedules if not s.is_active]
    assert [(s.job_identifier, s.next_run) for s in paused] == [("status-page", None)]
    assert all(s.next_run is not None and s.next_run > DEFAULT_START for s in schedules[:3])


async def test_runs_cover_every_status_and_trigger(seeded: FakeBackend) -> None:
    page = await seeded.list_runs(RunQuery(limit=1000))
    runs = page.items
    assert page.total == len(runs) == 200
    assert {r.status for r in runs} == set(RUN_STATUSES)
    assert {r.triggered_by for r in runs} == set(TRIGGERS)
    assert all(r.queued_at <= DEFAULT_START for r in runs)
    assert runs[0].queued_at > DEFAULT_START - timedelta(minutes=15)
    finished = [r for r in runs if r.completed_at]
    assert all(r.duration_seconds and r.worker and r.started_at for r in finished)
    assert all(r.error_message for r in runs if r.status in ("failed", "timed_out", "lost"))
    assert any(r.result for r in runs if r.status == "completed")
    assert all(r.schedule_name for r in runs if r.triggered_by == "schedule")


async def test_seeding_is_deterministic() -> None:
    first = FakeBackend.seeded(ManualClock(DEFAULT_START))
    second = FakeBackend.seeded(ManualClock(DEFAULT_START))
    query = RunQuery(limit=1000)
    assert await first.list_runs(query) == await second.list_runs(query)
    assert await first.list_schedules() == await second.list_schedules()


async def test_seeded_read_only_has_data_but_refuses_writes() -> None:
    backend = FakeBackend.seeded(read_only=True)
    assert len(await backend.list_templates()) == 8
    with pytest.raises(PermissionDenied):
        await backend.create_template(
            TemplateSpec(name="x", job_type="shell", config={"command": "true"})
        )


def test_add_run_rejects_unknown_columns_and_bad_values(seeded: FakeBackend) -> None:
    with pytest.raises(TypeError, match="no field"):
        seeded.add_run(template="cleanup-tmp", colour="red")
    with pytest.raises(ValueError, match="status"):
        seeded.add_run(template="cleanup-tmp", status="exploded")
    assert seeded.runs.counts()["completed"] == 142
