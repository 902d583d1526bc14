"""Contract: templates (CRUD, revisions, copy, names, validation, guarded delete)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from core.backend.inputs import (
    TemplatePatch,
    TemplateSpec,
)
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.parameters import MASK, ParameterSpec

from .harness import NOW, Harness, shell, weekly_cron


async def test_create_then_get_by_id_name_and_digits(harness: Harness) -> None:
    b = harness.backend
    created = await b.create_template(
        shell(
            "backup [daily]",
            description="nightly dump",
            tags=("db", "backup", "db"),
            parameters=(
                ParameterSpec(name="target", default="app"),
                ParameterSpec(name="token", type="secret", default="s3cret"),
            ),
            timeout_seconds=60,
        )
    )
    assert created.revision == 1
    assert created.config["command"] == ["echo", "hello"]
    assert created.tags == ("db", "backup")
    assert created.owner == "tester"
    assert created.created_at == NOW
    assert [p.default for p in created.parameters] == ["app", MASK]
    for ref in (created.id, str(created.id), "backup [daily]"):
        assert await b.get_template(ref) == created


async def test_list_templates_sorted_and_filtered(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell("zeta", tags=("ops",)))
    await b.create_template(shell("alpha-sync", tags=("etl", "ops")))
    await b.create_template(
        TemplateSpec(name="probe", job_type="http", config={"url": "https://example.com/"})
    )
    assert [t.name for t in await b.list_templates()] == ["alpha-sync", "probe", "zeta"]
    assert [t.name for t in await b.list_templates(job_type="http")] == ["probe"]
    assert [t.name for t in await b.list_templates(tag="ops")] == ["alpha-sync", "zeta"]
    assert [t.name for t in await b.list_templates(search="SYNC")] == ["alpha-sync"]


async def test_update_keeps_every_revision(harness: Harness) -> None:
    b = harness.backend
    created = await b.create_template(shell("hello", description="first", timeout_seconds=30))
    harness.clock.advance(60)
    updated = await b.update_template(
        "hello", TemplatePatch(config={"command": ["echo", "bye"]}, clear=("timeout_seconds",))
    )
    assert updated.revision == 2
    assert updated.config["command"] == ["echo", "bye"]
    assert updated.timeout_seconds is None
    assert updated.description == "first"
    assert updated.updated_at == NOW + timedelta(seconds=60)
    assert updated.created_at == created.created_at
    revisions = await b.template_revisions(created.id)
    assert [r.revision for r in revisions] == [2, 1]
    assert revisions[1].snapshot["config"]["command"] == ["echo", "hello"]
    assert revisions[0].changed_by == "tester"


async def test_empty_update_changes_nothing(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(shell())
    await b.create_schedule(weekly_cron("w"))
    harness.add_run(template, None, status="failed")
    before = await b.get_template("hello")
    assert (before.schedule_count, before.last_run_status) == (1, "failed")
    assert await b.update_template(template.id, TemplatePatch()) == before
    assert [r.revision for r in await b.template_revisions("hello")] == [1]


async def test_rename_and_copy_respect_unique_names(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell("one", tags=("a",)))
    await b.create_template(shell("two"))
    with pytest.raises(Conflict, match="'two' already exists"):
        await b.create_template(shell("two"))
    with pytest.raises(Conflict, match="'two' already exists"):
        await b.update_template("one", TemplatePatch(name="two"))
    with pytest.raises(Conflict, match="'one' already exists"):
        await b.copy_template("two", "one")
    await b.create_schedule(weekly_cron("uses-one", "one"))
    copied = await b.copy_template("one", "one-copy")
    assert (copied.revision, copied.tags, copied.schedule_count) == (1, ("a",), 0)
    assert copied.config == (await b.get_template("one")).config


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (TemplateSpec(name="x", job_type="cobol"), "job_type", "unknown job type 'cobol'"),
        (TemplateSpec(name="x", job_type="shell", config={}), "config.command", "shell"),
        (TemplateSpec(name="x", job_type="http", config={"url": "nope"}), "config.url", "URL"),
        (shell(" "), "name", "empty"),
        (shell("123"), "name", "digits"),
        (shell(tags=("bad tag",)), "tags", "'bad tag'"),
        (shell(timeout_seconds=0), "timeout_seconds", "greater than zero"),
        (shell(retries=101), "retries", "101"),
        (
            shell(parameters=(ParameterSpec(name="a"), ParameterSpec(name="A"))),
            "parameters.A",
            "declared twice",
        ),
    ],
)
async def test_bad_template_is_rejected_naming_the_field(
    harness: Harness, spec: TemplateSpec, field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed, match=words) as caught:
        await harness.backend.create_template(spec)
    assert caught.value.field == field
    assert await harness.backend.list_templates() == []


async def test_bad_update_changes_nothing(harness: Harness) -> None:
    b = harness.backend
    before = await b.create_template(shell())
    with pytest.raises(ValidationFailed) as caught:
        await b.update_template("hello", TemplatePatch(config={"command": ""}))
    assert caught.value.field == "config.command"
    with pytest.raises(ValidationFailed, match="cannot be cleared"):
        await b.update_template("hello", TemplatePatch(clear=("name",)))
    assert await b.get_template("hello") == before


async def test_missing_objects_are_not_found(harness: Harness) -> None:
    b = harness.backend
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: b.get_template("ghost"),
        lambda: b.get_template(404),
        lambda: b.update_template("ghost", TemplatePatch(description="x")),
        lambda: b.delete_template("ghost"),
        lambda: b.template_revisions("ghost"),
        lambda: b.get_schedule("ghost"),
        lambda: b.preview_schedule(404),
        lambda: b.create_schedule(weekly_cron("s", "ghost")),
        lambda: b.list_schedules(template="ghost"),
        lambda: b.get_run(404),
        lambda: b.delete_run(404),
    ]
    for call in calls:
        with pytest.raises(NotFound, match="not found"):
            await call()


async def test_delete_refused_while_scheduled_then_forced(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(shell())
    schedule = await b.create_schedule(weekly_cron("zz-weekly"))
    await b.create_schedule(weekly_cron("aa-weekly"))
    run_id = harness.add_run(template=template, schedule=schedule, scheduled_for=NOW)
    assert (await b.get_template("hello")).schedule_count == 2
    with pytest.raises(Conflict, match="used by 2 schedule\\(s\\): aa-weekly, zz-weekly"):
        await b.delete_template("hello")
    report = await b.delete_template("hello", force=True)
    assert (report.kind, report.name) == ("template", "hello")
    assert report.removed_schedules == ("aa-weekly", "zz-weekly")
    assert await b.list_schedules() == []
    run = await b.get_run(run_id)
    assert (run.job_template_id, run.job_schedule_id, run.job_name) == (None, None, "hello")
    unused = await b.create_template(shell("unused"))
    assert (await b.delete_template(unused.id)).removed_schedules == ()
    with pytest.raises(NotFound):
        await b.get_template(unused.id)
