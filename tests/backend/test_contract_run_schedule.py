"""Contract: run a schedule now on every backend (SCHEDULING.md rule 13)."""

from __future__ import annotations

import pytest

from core.backend.inputs import SchedulePatch, TemplatePatch, TemplateSpec
from core.errors import Conflict, NotFound, PermissionDenied
from core.jobs.parameters import ParameterSpec

from .harness import Harness, weekly_cron


def template_with_parameters(name: str = "hello") -> TemplateSpec:
    """A shell template with an int and a string parameter."""
    return TemplateSpec(
        name=name,
        job_type="shell",
        config={"command": "echo hello"},
        parameters=(
            ParameterSpec(name="n", type="int", default=1),
            ParameterSpec(name="mode", type="string", default="delta"),
        ),
    )


async def test_run_schedule_queues_a_manual_run_with_the_overrides(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(template_with_parameters())
    schedule = await b.create_schedule(weekly_cron("mondays", job_parameters={"n": 7}))
    run = await b.run_schedule("mondays")
    assert (run.status, run.triggered_by) == ("pending", "manual")
    assert (run.job_schedule_id, run.job_template_id) == (schedule.id, template.id)
    assert run.job_name == "mondays"
    assert run.schedule_name == "mondays"
    assert run.parameters == {"n": 7, "mode": "delta"}
    assert run.scheduled_for == harness.clock.now()
    assert run.template_revision == template.revision
    audit = await b.audit_log(limit=1)
    assert (audit[0].action, audit[0].target_id) == ("run.create", run.id)
    assert audit[0].after is not None and audit[0].after["schedule"] == "mondays"
    by_id = await b.run_schedule(schedule.id, force=True)
    assert by_id.id != run.id and by_id.job_schedule_id == schedule.id


async def test_run_schedule_never_consumes_an_occurrence(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(template_with_parameters())
    before = await b.create_schedule(weekly_cron("mondays"))
    await b.run_schedule("mondays")
    after = await b.get_schedule("mondays")
    assert after.next_run == before.next_run
    assert after.last_run == before.last_run
    assert after.last_run_status == "pending"
    assert await b.list_occurrences(schedule="mondays") == []


async def test_a_disabled_schedule_can_still_be_run_by_hand(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(template_with_parameters())
    await b.create_schedule(weekly_cron("mondays", is_active=False))
    run = await b.run_schedule("mondays")
    assert run.status == "pending"
    assert (await b.get_schedule("mondays")).is_active is False


async def test_the_schedules_overlap_policy_refuses_unless_forced(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(template_with_parameters())
    await b.create_schedule(weekly_cron("mondays", overlap="skip"))
    await b.run_schedule("mondays")
    with pytest.raises(Conflict, match=r"'mondays' already has 1 active run.*skip"):
        await b.run_schedule("mondays")
    assert (await b.run_schedule("mondays", force=True)).status == "pending"
    await b.update_schedule("mondays", SchedulePatch(overlap="allow", overlap_max=3))
    await b.run_schedule("mondays")  # 3 active now: the most allow admits
    with pytest.raises(Conflict, match="overlap policy is allow"):
        await b.run_schedule("mondays")


async def test_other_schedules_runs_do_not_count_as_overlap(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(template_with_parameters())
    await b.create_schedule(weekly_cron("mondays"))
    await b.create_schedule(weekly_cron("tuesdays"))
    await b.run_template("hello")
    await b.run_schedule("tuesdays")
    assert (await b.run_schedule("mondays")).status == "pending"


async def test_a_paused_template_refuses_unless_forced(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(template_with_parameters())
    await b.create_schedule(weekly_cron("mondays"))
    await b.update_template("hello", TemplatePatch(paused=True))
    with pytest.raises(Conflict, match="is paused"):
        await b.run_schedule("mondays")
    assert (await b.run_schedule("mondays", force=True)).triggered_by == "manual"


async def test_run_schedule_unknown_and_read_only(harness: Harness) -> None:
    b = harness.backend
    with pytest.raises(NotFound, match="schedule 'ghost'"):
        await b.run_schedule("ghost")
    await b.create_template(template_with_parameters())
    await b.create_schedule(weekly_cron("mondays"))
    with pytest.raises(PermissionDenied):
        await harness.read_only.run_schedule("mondays")
