"""Contract: run now, cancel, retry, attempts, logs, ledger and workers on every backend."""

from __future__ import annotations

import pytest

from core.backend.inputs import TemplatePatch, TemplateSpec
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.jobs.parameters import ParameterSpec

from .harness import Harness


def shell(name: str = "hello", **extra: object) -> TemplateSpec:
    """A shell template with one int parameter."""
    return TemplateSpec(
        name=name,
        job_type="shell",
        config={"command": "echo hello"},
        parameters=(ParameterSpec(name="n", type="int", default=1),),
        **extra,  # type: ignore[arg-type]
    )


async def test_run_template_queues_a_manual_run(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    run = await b.run_template("hello", parameters={"n": "5"})
    assert (run.status, run.triggered_by, run.job_name) == ("pending", "manual", "hello")
    assert run.parameters == {"n": 5}
    assert run.scheduled_for == harness.clock.now()
    assert run.max_attempts == 1
    audit = await b.audit_log(limit=1)
    assert audit[0].action == "run.create"


async def test_run_template_bad_input(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    with pytest.raises(ValidationFailed, match=r"parameters.n: 'x' is not a valid int"):
        await b.run_template("hello", parameters={"n": "x"})
    with pytest.raises(ValidationFailed, match=r"parameters.bogus: unknown parameter"):
        await b.run_template("hello", parameters={"bogus": 1})
    with pytest.raises(ValidationFailed, match="triggered_by"):
        await b.run_template("hello", triggered_by="schedule")
    with pytest.raises(NotFound, match="template 'ghost'"):
        await b.run_template("ghost")
    with pytest.raises(PermissionDenied):
        await harness.read_only.run_template("hello")


async def test_paused_template_and_overlap_refuse_unless_forced(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell(overlap="skip"))
    await b.run_template("hello")
    with pytest.raises(Conflict, match="overlap policy is skip"):
        await b.run_template("hello")
    assert (await b.run_template("hello", force=True)).status == "pending"
    await b.update_template("hello", TemplatePatch(paused=True))
    with pytest.raises(Conflict, match="is paused"):
        await b.run_template("hello")


async def test_cancel_pending_and_running(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(shell())
    pending = await b.run_template("hello")
    cancelled = await b.cancel_run(pending.id, reason="not today")
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == "not today"
    with pytest.raises(Conflict, match="already ended"):
        await b.cancel_run(pending.id)
    running_id = harness.add_run(template, status="running", started_at=harness.clock.now())
    flagged = await b.cancel_run(running_id)
    assert flagged.status == "running"  # the executor stops it and records the outcome
    assert flagged.cancel_reason and "tester" in flagged.cancel_reason
    with pytest.raises(NotFound):
        await b.cancel_run(999999)


async def test_retry_makes_a_new_run(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(shell())
    failed_id = harness.add_run(template, status="failed", parameters={"n": 7})
    retry = await b.retry_run(failed_id)
    assert (retry.triggered_by, retry.retry_of_run_id, retry.status) == (
        "retry",
        failed_id,
        "pending",
    )
    assert retry.parameters == {"n": 7}
    assert (await b.get_run(failed_id)).status == "failed"
    running_id = harness.add_run(template, status="running")
    with pytest.raises(Conflict, match="can be retried once it has ended"):
        await b.retry_run(running_id)


async def test_logs_attempts_ledger_and_workers_start_empty(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    run = await b.run_template("hello")
    page = await b.run_logs(run.id)
    assert (page.chunks, page.next_seq, page.finished) == ((), 0, False)
    assert await b.run_attempts(run.id) == []
    assert await b.list_occurrences() == []
    assert await b.list_workers() == []
    with pytest.raises(ValidationFailed, match="limit"):
        await b.run_logs(run.id, limit=0)
    with pytest.raises(NotFound):
        await b.run_logs(424242)
    with pytest.raises(NotFound, match="schedule 'ghost'"):
        await b.list_occurrences(schedule="ghost")
