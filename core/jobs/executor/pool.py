"""The pool's engine: slot accounting, claiming into free slots, one task per attempt."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from core.clock import Clock
from core.jobs.executor.attempt import Attempt
from core.jobs.executor.claims import ClaimedRun, claim
from core.jobs.executor.config import ActiveRunInfo, ExecutorConfig, Worker
from core.jobs.executor.control import cancel_requested_pending, cancel_requests, probe
from core.jobs.executor.forkclient import ForkServer
from core.jobs.executor.outcome import AttemptResult
from core.jobs.executor.retry import decide
from core.jobs.executor.store import Finish
from core.jobs.executor.writer import BatchWriter
from core.settings.secrets import SecretBox
from core.storage.database import Database

log = logging.getLogger("jobdeck.executor")
#: Every attempt may log at least this much, even when earlier attempts used the run's cap.
MIN_ATTEMPT_LOG = 128 * 1024


@dataclass
class Active:
    """A run this pool owns: its attempt, its task, when it started (loop time)."""

    attempt: Attempt
    task: asyncio.Task[None]
    started: float
    finishing: bool = False


@dataclass
class Counters:
    """Attempts ended, and how many of them did not succeed (cancels aside)."""

    processed: int = 0
    failed: int = 0


@dataclass
class RunPool:
    """Claims pending runs into free slots and runs each attempt as a task."""

    db: Database
    clock: Clock
    config: ExecutorConfig
    me: Worker
    secrets: SecretBox | None
    fork: ForkServer
    writer: BatchWriter
    call: Callable[[Callable[[], Any]], Awaitable[Any]]
    home: Path
    accepting: Callable[[], bool]
    wake: Callable[[], None]
    slots: int = 4
    base_env: dict[str, str] = field(default_factory=dict)
    active: dict[int, Active] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    #: slots promised to a claim in flight, so two claims never overfill the pool
    reserved: int = 0
    #: the last claim filled every free slot: more is probably waiting, skip the probe
    expect_more: bool = False

    @property
    def executing(self) -> int:
        """Attempts whose process has not ended (a finishing run no longer takes a slot)."""
        return sum(1 for entry in self.active.values() if not entry.finishing)

    @property
    def claiming(self) -> bool:
        """A claim is in flight."""
        return self.reserved > 0

    def active_runs(self, now: float) -> tuple[ActiveRunInfo, ...]:
        """What runs here, for snapshots (``now`` in loop time)."""
        return tuple(
            ActiveRunInfo(
                run_id=run_id,
                name=entry.attempt.run.job_name,
                attempt=entry.attempt.run.attempt,
                elapsed_seconds=max(0.0, now - entry.started),
                pid=entry.attempt.pid,
            )
            for run_id, entry in sorted(self.active.items())
            # A finishing run's process is gone and its slot already free (see _run).
            if not entry.finishing
        )

    # -- claiming (the writer calls reserve/claim/claimed around each batch of finishes) --------

    def reserve(self) -> int:
        """Promise the free slots to one claim; 0 when none are free or the pool is closed."""
        if not self.accepting():
            return 0
        free = self.slots - self.executing - self.reserved
        if free <= 0:
            return 0
        self.reserved += free
        return free

    def claim(self, session: Session, limit: int) -> list[ClaimedRun]:
        """In the database thread, inside the caller's transaction."""
        return claim(
            session,
            now=self.clock.now(),
            limit=limit,
            worker=self.me,
            only=self.config.only_run_ids,
        )

    def claimed(self, runs: list[ClaimedRun], reserved: int) -> None:
        """Back on the loop: start the claimed runs, release the promise."""
        self.reserved -= reserved
        self.expect_more = len(runs) == reserved
        for run in runs:
            self._launch(run)

    async def claim_now(self, *, sweep: bool) -> None:
        """The poll path: a cheap probe when idle, then one claim transaction."""
        reserved = self.reserve()
        if not reserved:
            return
        runs: list[ClaimedRun] = []
        try:
            runs = await self.call(lambda: self._claim_blocking(reserved, sweep))
        finally:
            self.claimed(runs, reserved)

    def _claim_blocking(self, limit: int, sweep: bool) -> list[ClaimedRun]:
        now = self.clock.now()
        cancels = sweep
        if not self.expect_more:
            # Nothing was waiting last time: a read (no write lock) decides if a claim is due.
            with self.db.read() as session:
                found = probe(session, now, self.config.only_run_ids)
            if not found.due and not found.cancels:
                return []
            cancels = found.cancels
        with self.db.write() as session:
            if cancels:
                cancel_requested_pending(session, now)
            return self.claim(session, limit)

    async def check_cancels(self) -> None:
        """Stop the runs someone asked to cancel through the database."""
        ids = list(self.active)
        if not ids:
            return

        def read() -> dict[int, str | None]:
            with self.db.read() as session:
                return cancel_requests(session, ids)

        for run_id, reason in (await self.call(read)).items():
            entry = self.active.get(run_id)
            if entry is not None:
                entry.attempt.request_stop("cancel", reason or "cancel requested")

    # -- one attempt ------------------------------------------------------------------------------

    def _launch(self, run: ClaimedRun) -> None:
        budget = max(self.config.max_log_bytes - run.log_size, MIN_ATTEMPT_LOG)
        attempt = Attempt(
            run,
            config=self.config,
            clock=self.clock,
            fork=self.fork,
            writer=self.writer,
            secrets=self.secrets,
            base_env=self.base_env,
            home=self.home,
            log_budget=min(budget, self.config.max_log_bytes),
        )
        task = asyncio.create_task(self._run(attempt), name=f"jobdeck-run-{run.run_id}")
        self.active[run.run_id] = Active(attempt, task, asyncio.get_running_loop().time())

    async def _run(self, attempt: Attempt) -> None:
        run = attempt.run
        try:
            try:
                result = await attempt.execute()
            except Exception as exc:  # a jobdeck bug must not leave the run running forever
                log.exception("executor: run %s attempt %s crashed", run.run_id, run.attempt)
                error = f"internal executor error: {exc!r}"
                result = AttemptResult("failed", error=error, note=f"[jobdeck] {error}")
            entry = self.active.get(run.run_id)
            if entry is not None:
                # The process is gone: its slot is free while the outcome is being written
                # (the writer claims a replacement in the same transaction).
                entry.finishing = True
            await self._finish(attempt, result)
        finally:
            self.active.pop(run.run_id, None)

    async def _finish(self, attempt: Attempt, result: AttemptResult) -> None:
        run, now = attempt.run, self.clock.now()
        decision = decide(
            run.snapshot,
            status=result.status,
            attempt=run.attempt,
            max_attempts=run.max_attempts,
            deadline_at=run.deadline_at,
            now=now,
            permanent=result.permanent,
        )
        notes = [result.note] if result.note else []
        if decision.retry and decision.not_before is not None:
            wait = (decision.not_before - now).total_seconds()
            notes.append(
                f"[jobdeck] attempt {run.attempt} {result.status}; attempt {run.attempt + 1} "
                f"of {run.max_attempts} starts in {wait:.1f} s"
            )
        elif result.status != "completed" and run.max_attempts > 1 and decision.why_not:
            notes.append(f"[jobdeck] no further attempt: {decision.why_not}")
        rows = attempt.sink.close("\n".join(notes) if notes else None)
        finish = Finish(
            run_id=run.run_id,
            attempt=run.attempt,
            status="pending" if decision.retry else result.status,
            attempt_status=result.status,
            now=now,
            duration=max(0.0, (now - run.started_at).total_seconds()),
            exit_code=result.exit_code,
            signal=result.signal,
            result=result.result,
            error=attempt.mask(result.error),
            cancel_reason=result.cancel_reason,
            log_size=run.log_size + attempt.sink.stored_bytes,
            not_before=decision.not_before,
            pid=attempt.pid,
        )
        if not await self.writer.finish(finish, rows):
            log.warning("executor: run %s was taken over before its end was written", run.run_id)
        self.counters.processed += 1
        if result.status not in ("completed", "cancelled"):
            self.counters.failed += 1
