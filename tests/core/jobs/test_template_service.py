"""Template service: CRUD, revisions, copy, delete rules, audit, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.backend.inputs import ScheduleSpec, TemplatePatch, TemplateSpec
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.parameters import MASK, ParameterSpec
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.tables import AuditRecord, JobTemplate, JobTemplateRevision


def shell(name: str = "hello", **extra: Any) -> TemplateSpec:
    """A valid shell template spec."""
    return TemplateSpec(name=name, job_type="shell", config={"command": "echo hello"}, **extra)


def test_create_get_list(templates: TemplateService) -> None:
    created = templates.create(
        shell(
            tags=("ops", "nightly"),
            parameters=(ParameterSpec(name="target", default="db1"),),
            timeout_seconds=30,
        )
    )
    assert created.config["command"] == ["echo", "hello"]
    assert created.revision == 1
    assert templates.get("hello") == templates.get(created.id) == templates.get(str(created.id))
    templates.create(TemplateSpec(name="ping", job_type="http", config={"url": "http://x.test/"}))
    assert [t.name for t in templates.list_templates()] == ["hello", "ping"]
    assert [t.name for t in templates.list_templates(job_type="http")] == ["ping"]
    assert [t.name for t in templates.list_templates(tag="ops")] == ["hello"]
    assert [t.name for t in templates.list_templates(search="IN")] == ["ping"]
    assert templates.list_templates(search="%") == []


def test_every_update_keeps_a_revision(templates: TemplateService) -> None:
    templates.create(shell())
    templates.update("hello", TemplatePatch(description="says hello"))
    updated = templates.update("hello", TemplatePatch(config={"command": ["echo", "bye"]}))
    assert updated.revision == 3
    revisions = templates.revisions("hello")
    assert [r.revision for r in revisions] == [3, 2, 1]
    assert revisions[0].snapshot["config"]["command"] == ["echo", "bye"]
    assert revisions[2].snapshot["description"] is None
    # A patch that changes nothing makes no revision.
    assert templates.update("hello", TemplatePatch()).revision == 3


def test_rename_and_clear(templates: TemplateService) -> None:
    templates.create(shell(timeout_seconds=5, description="x"))
    renamed = templates.update("hello", TemplatePatch(name="hi", clear=("timeout_seconds",)))
    assert renamed.name == "hi"
    assert renamed.timeout_seconds is None
    with pytest.raises(NotFound):
        templates.get("hello")


def test_copy(templates: TemplateService) -> None:
    templates.create(shell(parameters=(ParameterSpec(name="n", type="int", default=3),)))
    copy = templates.copy("hello", "hello-2")
    assert copy.name == "hello-2"
    assert copy.config == templates.get("hello").config
    assert copy.parameters[0].default == 3


def test_delete_refuses_while_used_then_force_reports(
    templates: TemplateService, schedules: ScheduleService, database: Database
) -> None:
    templates.create(shell())
    for name in ("b-sched", "a-sched"):
        schedules.create(
            ScheduleSpec(
                job_identifier=name, template="hello", schedule_type="daily", time_of_day="09:00"
            )
        )
    with pytest.raises(Conflict, match=r"used by 2 schedule\(s\): a-sched, b-sched"):
        templates.delete("hello")
    assert templates.get("hello").schedule_count == 2
    report = templates.delete("hello", force=True)
    assert report.removed_schedules == ("a-sched", "b-sched")
    assert schedules.list_schedules() == []
    with database.read() as session:
        actions = [r.action for r in session.exec(select(AuditRecord))]
    assert actions.count("schedule.delete") == 2
    assert "template.delete" in actions


def test_every_write_is_audited(templates: TemplateService, database: Database) -> None:
    templates.create(shell())
    templates.update("hello", TemplatePatch(description="d"))
    templates.copy("hello", "other")
    templates.delete("other")
    with database.read() as session:
        rows = list(session.exec(select(AuditRecord).order_by(AuditRecord.id)))  # type: ignore[arg-type]
    assert [r.action for r in rows] == [
        "template.create",
        "template.update",
        "template.create",
        "template.delete",
    ]
    assert rows[1].before and rows[1].before["description"] is None
    assert rows[1].after and rows[1].after["description"] == "d"
    assert {r.actor for r in rows} == {"tester"}


def test_secret_defaults_are_encrypted_at_rest_and_masked(
    templates: TemplateService, database: Database, tmp_path: Path
) -> None:
    secret = "s3cr3t-Zq9-known"
    templates.create(
        shell(parameters=(ParameterSpec(name="token", type="secret", default=secret),))
    )
    assert templates.get("hello").parameters[0].default == MASK
    # Sending the masked view back keeps the stored secret rather than storing the mask.
    view = templates.get("hello")
    templates.update("hello", TemplatePatch(parameters=view.parameters, description="x"))
    with database.read() as session:
        stored = session.exec(select(JobTemplate)).one().parameters[0]["default"]
        audit = [str(r.before) + str(r.after) for r in session.exec(select(AuditRecord))]
        revisions = [str(r.snapshot) for r in session.exec(select(JobTemplateRevision))]
    assert stored.startswith("enc:v1:")
    assert SecretBox(tmp_path / "secret.key").open(stored) == secret
    assert not any(secret in text or MASK + "x" in text for text in audit + revisions)
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"
    if database.is_sqlite:
        database.dispose()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("jobdeck.db*"))
        assert secret.encode() not in raw
        assert b"enc:v1:" in raw


def test_secret_key_rotation(tmp_path: Path) -> None:
    box = SecretBox(tmp_path / "k")
    sealed = box.seal("pw")
    box.add_key()
    assert box.open(sealed) == "pw"  # old key still decrypts
    rotated = box.rotate_value(sealed)
    assert rotated != sealed and box.open(rotated) == "pw"


def test_missing_job_type_is_shown_broken_not_deleted(
    templates: TemplateService, database: Database
) -> None:
    templates.create(shell())
    with database.write() as session:
        row = session.exec(select(JobTemplate)).one()
        row.job_type = "gone_plugin"
        session.add(row)
    view = templates.get("hello")
    assert view.broken and "gone_plugin" in view.broken
    assert [t.name for t in templates.list_templates()] == ["hello"]


BAD_CREATES: list[tuple[dict[str, Any], str, str]] = [
    ({"name": ""}, "name", "empty"),
    ({"name": "   "}, "name", "empty"),
    ({"name": "x" * 256}, "name", "256 characters"),
    ({"name": "bad\nname"}, "name", "control characters"),
    ({"name": "123"}, "name", "digits"),
    ({"job_type": "nope"}, "job_type", "unknown job type 'nope'"),
    ({"config": {}}, "config.command", "Field required"),
    ({"config": {"command": ""}}, "config.command", "command is empty"),
    ({"config": {"command": "echo 'unclosed"}}, "config.command", "cannot split"),
    ({"config": {"command": "ls", "bogus": 1}}, "config.bogus", "Extra inputs"),
    ({"timeout_seconds": 0}, "timeout_seconds", "greater than zero"),
    ({"timeout_seconds": 10, "deadline_seconds": 5}, "deadline_seconds", "shorter"),
    ({"retries": -1}, "retries", "outside 0..100"),
    ({"retries": 101}, "retries", "outside 0..100"),
    ({"tags": ("has space",)}, "tags", "'has space'"),
    (
        {"parameters": (ParameterSpec(name="a"), ParameterSpec(name="A"))},
        "parameters.A",
        "declared twice",
    ),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_CREATES)
def test_bad_create_names_the_field(
    templates: TemplateService, changes: dict[str, Any], field: str, words: str
) -> None:
    data = {"name": "t", "job_type": "shell", "config": {"command": "true"}, **changes}
    with pytest.raises(ValidationFailed) as caught:
        templates.create(TemplateSpec(**data))
    assert caught.value.field == field
    assert words in str(caught.value)
    assert templates.list_templates() == []  # nothing half-written


@pytest.mark.parametrize(
    ("job_type", "config", "field"),
    [
        ("http", {"url": "not a url"}, "config.url"),
        ("http", {"url": "http://x.test", "expected_status": [999]}, "config.expected_status"),
        ("http", {"url": "http://x.test", "method": "BREW"}, "config.method"),
        ("python", {"callable": "no_colon"}, "config.callable"),
        ("git", {"repository": ""}, "config.repository"),
        ("git", {"repository": "--upload-pack=evil"}, "config.repository"),
    ],
)
def test_bad_config_per_job_type(
    templates: TemplateService, job_type: str, config: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        templates.create(TemplateSpec(name="t", job_type=job_type, config=config))
    assert caught.value.field == field
    assert job_type in str(caught.value)


def test_duplicate_name_is_a_conflict(templates: TemplateService) -> None:
    templates.create(shell())
    with pytest.raises(Conflict, match="already exists"):
        templates.create(shell())
    templates.create(shell("other"))
    with pytest.raises(Conflict, match="'hello' already exists"):
        templates.update("other", TemplatePatch(name="hello"))


def test_unknown_refs(templates: TemplateService) -> None:
    with pytest.raises(NotFound, match="template 'ghost' not found"):
        templates.get("ghost")
    with pytest.raises(NotFound):
        templates.update(404, TemplatePatch(description="x"))
    with pytest.raises(NotFound):
        templates.delete("ghost")
    with pytest.raises(ValidationFailed, match="clear"):
        templates.update("ghost", TemplatePatch(clear=("name",)))


def test_retention_is_stored_shown_replaced_copied_and_reset(templates: TemplateService) -> None:
    created = templates.create(shell(retention={"keep_success": 5, "max_age_days": 90}))
    assert created.retention == {"keep_success": 5, "max_age_days": 90}
    assert templates.get("hello").retention == created.retention
    assert templates.revisions("hello")[0].snapshot["retention"] == created.retention
    updated = templates.update("hello", TemplatePatch(retention={"keep_failure": 0}))
    assert (updated.retention, updated.revision) == ({"keep_failure": 0}, 2)
    assert templates.copy("hello", "copy").retention == {"keep_failure": 0}
    assert templates.update("hello", TemplatePatch(retention={})).retention is None
    assert templates.create(shell("plain")).retention is None


@pytest.mark.parametrize(
    ("retention", "field", "words"),
    [
        ({"keep_sucess": 3}, "retention.keep_sucess", "unknown key"),
        ({"keep_success": -1}, "retention.keep_success", "whole number"),
        ({"keep_failure": 2.5}, "retention.keep_failure", "whole number"),
        ({"max_age_days": "30"}, "retention.max_age_days", "whole number"),
        ({"max_age_days": True}, "retention.max_age_days", "whole number"),
        ({"max_age_days": 10**9}, "retention.max_age_days", "from 0 to 36500"),
    ],
)
def test_bad_retention_is_rejected_naming_the_key(
    templates: TemplateService, retention: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        templates.create(shell(retention=retention))
    assert caught.value.field == field
    assert words in str(caught.value)
    templates.create(shell("ok"))
    with pytest.raises(ValidationFailed) as caught:
        templates.update("ok", TemplatePatch(retention=retention))
    assert caught.value.field == field
    assert templates.get("ok").retention is None
