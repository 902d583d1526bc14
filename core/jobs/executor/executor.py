"""The local executor: a pool of slots that claims pending runs and runs each in a child."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from core.clock import Clock
from core.jobs.executor.config import (
    ExecutorConfig,
    ReconcileReport,
    Worker,
    WorkerSnapshot,
)
from core.jobs.executor.control import WorkerState, cancel_pending, claimable_count, upsert_worker
from core.jobs.executor.environment import base_environment
from core.jobs.executor.forkclient import ForkServer
from core.jobs.executor.pool import RunPool
from core.jobs.executor.reconcile import find_stale, reconcile_once
from core.jobs.executor.writer import BatchWriter
from core.settings.config import default_home
from core.settings.secrets import SecretBox
from core.storage.database import Database

log = logging.getLogger("jobdeck.executor")
T = TypeVar("T")


class LocalExecutor:
    """Runs pending runs in child processes, ``config.slots`` at a time (issue 3 §3)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        config: ExecutorConfig,
        owner_id: str,
        secrets: SecretBox | None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.me = Worker(owner_id, config.name, socket.gethostname())
        self._status = "created"
        self._paused = False
        self._draining = False
        self._heartbeat_at: datetime | None = None
        self._started_at: datetime | None = None
        self._db_thread: ThreadPoolExecutor | None = None
        self._fork = ForkServer(grace=config.kill_grace_seconds)
        self._writer = BatchWriter(
            db, self._call, owner_id=owner_id, flush_seconds=config.flush_seconds
        )
        self._pool = RunPool(
            db=db,
            clock=clock,
            config=config,
            me=self.me,
            secrets=secrets,
            fork=self._fork,
            writer=self._writer,
            call=self._call,
            home=config.home or default_home(),
            accepting=self._accepting,
            wake=self.wake,
            slots=config.slots,
        )
        self._writer.claims = self._pool
        self._wake = asyncio.Event()
        self._last_sweep = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _call(self, work: Callable[[], T]) -> T:
        """Run blocking database work in the executor's own thread (FIFO, one connection)."""
        if self._db_thread is None:
            self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="jobdeck-executor-db")
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, work)

    def _accepting(self) -> bool:
        return self._status == "running" and not self._paused and not self._draining

    def _state(self) -> WorkerState:
        status = self._status
        if status == "running" and (self._paused or self._draining):
            status = "paused" if self._paused else "draining"
        return WorkerState(
            status=status,
            slots=self._pool.slots,
            # As the snapshot counts: a finishing run's process is gone and its slot free.
            active=self._pool.executing,
            processed=self._pool.counters.processed,
            failed=self._pool.counters.failed,
            paused=self._paused,
            draining=self._draining,
        )

    async def _save_worker(self, *, starting: bool = False) -> None:
        state, now = self._state(), self.clock.now()

        def write() -> None:
            with self.db.write() as session:
                upsert_worker(session, self.me, now=now, state=state, starting=starting)

        await self._call(write)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Worker row up, fork server warming, reconcile, then the poll and heartbeat loops."""
        if self._status != "created":
            raise RuntimeError(f"the executor is {self._status}; it starts once")
        self._loop = asyncio.get_running_loop()
        self._pool.base_env = base_environment(os.environ)
        self._started_at = self._heartbeat_at = self.clock.now()
        self._status = "running"
        try:
            await self._save_worker(starting=True)
        except BaseException:
            self._status = "created"  # nothing started yet: start() may be retried
            raise
        self._fork.start()
        self._tasks = [
            asyncio.create_task(self._writer.run(), name="jobdeck-executor-writer"),
            asyncio.create_task(self._poll_loop(), name="jobdeck-executor-poll"),
            asyncio.create_task(self._heartbeat_loop(), name="jobdeck-executor-heartbeat"),
        ]
        try:
            await self.reconcile()
        except Exception:  # the store may be down (F18): the heartbeat reconciles again
            log.exception("executor: reconcile at start failed; retrying with the heartbeat")
        self.wake()

    async def stop(self, grace: float, reason: str) -> None:
        """Take no new runs; let running ones finish up to ``grace``; cancel the rest."""
        if self._status != "running":
            return
        self._status = "stopping"
        self._wake.set()
        if not self._tasks:  # start() failed before its loops began
            self._status = "stopped"
            await self._fork.stop()
            return
        writer_task, poll_task, heartbeat_task = self._tasks
        await poll_task
        heartbeat_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat_task
        active = self._pool.active
        if active:
            await asyncio.wait([entry.task for entry in active.values()], timeout=grace)
        for entry in list(active.values()):
            entry.attempt.request_stop("shutdown", reason)
        if active:
            tasks = [entry.task for entry in active.values()]
            await asyncio.wait(tasks, timeout=self.config.kill_grace_seconds + 30)
        await self._writer.close()
        writer_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer_task
        self._status = "stopped"
        await self._save_worker()
        await self._fork.stop()
        if self._db_thread is not None:
            self._db_thread.shutdown(wait=True)
            self._db_thread = None

    def wake(self) -> None:
        """Pending runs were created in-process: look now (callable from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    # -- operator controls ------------------------------------------------------------------

    async def cancel(self, run_id: int, reason: str) -> bool:
        """Cancel a run: stop it here, or end it if pending, or flag it for its owner."""
        entry = self._pool.active.get(run_id)
        if entry is not None:
            entry.attempt.request_stop("cancel", reason)
            return True
        now = self.clock.now()

        def write() -> bool:
            with self.db.write() as session:
                return cancel_pending(session, run_id, reason, now)

        return await self._call(write)

    @property
    def name(self) -> str:
        """The worker name this pool reports under (its row in ``workers``)."""
        return self.me.name

    async def resize(self, slots: int) -> None:
        """Change the number of slots (running runs beyond a smaller size finish normally)."""
        if slots < 1:
            raise ValueError("an executor needs at least one slot")
        self._pool.slots = slots
        await self._save_worker()
        self.wake()

    async def pause(self) -> None:
        """Claim nothing until resumed; running runs continue."""
        self._paused = True
        await self._save_worker()

    async def resume(self) -> None:
        """Claim again after a pause or a drain."""
        self._paused = self._draining = False
        await self._save_worker()
        self.wake()

    async def drain(self) -> None:
        """Finish what runs, take nothing new (before maintenance or a shutdown)."""
        self._draining = True
        await self._save_worker()

    # -- state ------------------------------------------------------------------------------

    def snapshot(self) -> WorkerSnapshot:
        """The pool as the workers screen shows it (no database read)."""
        state = self._state()
        return WorkerSnapshot(
            name=self.me.name,
            status=state.status,
            slots=state.slots,
            active=self._pool.active_runs(self._loop.time() if self._loop else 0.0),
            processed=state.processed,
            failed=state.failed,
            paused=self._paused,
            draining=self._draining,
            heartbeat_at=self._heartbeat_at,
            fork_server_pid=self._fork.pid,
        )

    async def wait_idle(self) -> None:
        """Until no run is active here and none is pending and due (tests, the CLI)."""
        pool = self._pool
        while True:
            if not pool.active and not pool.claiming:
                if not self._accepting():
                    return
                if not await self._call(self._due_count) and not pool.active and not pool.claiming:
                    return
                self.wake()
            await asyncio.sleep(min(0.05, self.config.poll_seconds))

    def _due_count(self) -> int:
        with self.db.read() as session:
            return claimable_count(session, self.clock.now())

    async def reconcile(self) -> ReconcileReport:
        """Runs left `running` by a dead owner (or a previous life), and leftover groups."""
        now = self.clock.now()
        period = self.config.heartbeat_seconds
        ours = set(self._pool.active)
        born = self._started_at or now

        def read() -> Any:
            with self.db.read() as session:
                return find_stale(
                    session,
                    owner_id=self.me.owner_id,
                    now=now,
                    period=period,
                    ours=ours,
                    born=born,
                )

        report = await reconcile_once(
            db=self.db,
            call=self._call,
            me=self.me,
            now=now,
            period=period,
            grace=self.config.kill_grace_seconds,
            stale=await self._call(read),
        )
        for note in report.notes:
            log.warning("executor: reconcile: %s", note)
        if report.retried:
            self.wake()
        return report

    # -- loops ------------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self._status == "running":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
            self._wake.clear()
            if self._status != "running":
                break
            # Wake-ups come with every finished run; the database is asked about cancels
            # (and pending runs are swept for them) once per poll period, not per wake-up.
            sweep = loop.time() - self._last_sweep >= self.config.poll_seconds
            try:
                if sweep:
                    self._last_sweep = loop.time()
                    await self._pool.check_cancels()
                await self._pool.claim_now(sweep=sweep)
            except Exception:  # the store may be down for a while (F18): keep polling
                log.exception("executor: poll failed; retrying")
                await asyncio.sleep(self.config.poll_seconds)

    async def _heartbeat_loop(self) -> None:
        while self._status == "running":
            await asyncio.sleep(self.config.heartbeat_seconds)
            try:
                now = self.clock.now()
                self._writer.heartbeat(list(self._pool.active), now)
                await self._save_worker()
                self._heartbeat_at = now
                await self.reconcile()
            except Exception:
                log.exception("executor: heartbeat failed; retrying")
