"""Contract: the audit log, read-only mode and view immutability."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from core.backend.inputs import (
    RunFilter,
    RunQuery,
    SchedulePatch,
    TemplatePatch,
)
from core.backend.views import ScheduleView
from core.errors import PermissionDenied

from .harness import NOW, Harness, shell, weekly_cron


async def test_every_write_is_audited(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    await b.update_template("hello", TemplatePatch(description="changed"))
    await b.copy_template("hello", "hello-2")
    await b.create_schedule(weekly_cron("w"))
    await b.set_schedule_active("w", False)
    await b.update_schedule("w", SchedulePatch(cron_expression="0 10 * * 1"))
    run_id = harness.add_run(template=await b.get_template("hello"), status="failed")
    await b.delete_run(run_id)
    await b.clear_runs(RunFilter())
    await b.delete_schedule("w")
    await b.delete_template("hello-2")
    records = await b.audit_log()
    assert [(r.action, r.target_name) for r in records] == [
        ("template.delete", "hello-2"),
        ("schedule.delete", "w"),
        ("run.clear", None),
        ("run.delete", "hello"),
        ("schedule.update", "w"),
        ("schedule.disable", "w"),
        ("schedule.create", "w"),
        ("template.create", "hello-2"),
        ("template.update", "hello"),
        ("template.create", "hello"),
    ]
    assert {(r.actor, r.source, r.at) for r in records} == {("tester", "test", NOW)}
    update = records[-2]
    assert update.before and update.after
    assert (update.before["description"], update.after["description"]) == (None, "changed")
    assert [r.action for r in await b.audit_log(limit=2)] == ["template.delete", "schedule.delete"]


async def test_read_only_refuses_every_write(harness: Harness) -> None:
    ro = harness.read_only
    assert ro.capabilities.writable is False
    assert harness.backend.capabilities.writable is True
    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: ro.create_template(shell()),
        lambda: ro.update_template("hello", TemplatePatch(description="x")),
        lambda: ro.delete_template("hello", force=True),
        lambda: ro.copy_template("hello", "other"),
        lambda: ro.create_schedule(weekly_cron("w")),
        lambda: ro.update_schedule("w", SchedulePatch(minute=3)),
        lambda: ro.delete_schedule("w"),
        lambda: ro.set_schedule_active("w", False),
        lambda: ro.delete_run(1),
        lambda: ro.cleanup_runs(30),
        lambda: ro.clear_runs(RunFilter()),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied, match="read-only"):
            await write()
    assert await ro.list_templates() == []
    assert await ro.audit_log() == []
    assert (await ro.list_runs(RunQuery())).total == 0


async def test_views_are_snapshots(harness: Harness) -> None:
    b = harness.backend
    created = await b.create_template(shell(tags=("a",)))
    created.config["command"].append("mutated")
    assert (await b.get_template("hello")).config["command"] == ["echo", "hello"]
    assert isinstance(await b.create_schedule(weekly_cron("w")), ScheduleView)
