"""The executor's write path: log chunks, pids, outcomes and heartbeats, committed in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from core.jobs.executor.claims import ClaimedRun
from core.jobs.executor.logsink import LogSink
from core.jobs.executor.store import Batch, Finish, Spawned, write_batch
from core.storage.database import Database

log = logging.getLogger("jobdeck.executor")
T = TypeVar("T")
#: Longest pause between attempts to write while the database is unavailable (F18).
MAX_RETRY_SECONDS = 5.0


@dataclass
class _Log:
    sink: LogSink
    base_size: int


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ClaimHook(Protocol):
    """The pool: it fills the slots a batch of finishes frees in the same transaction."""

    def reserve(self) -> int: ...

    def claim(self, session: Session, limit: int) -> list[ClaimedRun]: ...

    def claimed(self, runs: list[ClaimedRun], reserved: int) -> None: ...


class BatchWriter:
    """Collects writes from every attempt and commits them together in the database thread.

    Log output is flushed every ``flush_seconds`` or as soon as a sink holds 64 KiB; outcomes
    and heartbeats are flushed at once. Whatever arrives during a commit rides in the next one,
    so a burst of short jobs costs a few transactions, not one per job (never one per line).
    """

    def __init__(
        self,
        db: Database,
        call: Callable[[Callable[[], Any]], Awaitable[Any]],
        *,
        owner_id: str,
        flush_seconds: float,
    ) -> None:
        self.db = db
        self._call = call
        self.owner_id = owner_id
        self.flush_seconds = flush_seconds
        self._logs: dict[int, _Log] = {}
        self._spawned: list[Spawned] = []
        self._finishes: list[tuple[Finish, list[dict[str, Any]], asyncio.Future[bool]]] = []
        self._heartbeat: tuple[list[int], datetime] | None = None
        self._carry: tuple[Batch, list[asyncio.Future[bool]]] | None = None
        self._urgent = False
        self._wakeup: asyncio.Future[None] | None = None
        self._closing = False
        self._lock = asyncio.Lock()
        self.claims: ClaimHook | None = None
        self._claim_failures = 0

    def add_log(self, run_id: int, sink: LogSink, base_size: int) -> None:
        """Flush ``sink`` with every batch until its run finishes."""
        self._logs[run_id] = _Log(sink, base_size)

    def log_size(self, run_id: int) -> int:
        """The run's log size once everything taken from its sink is written."""
        entry = self._logs.get(run_id)
        return entry.base_size + entry.sink.stored_bytes if entry else 0

    def spawned(self, record: Spawned) -> None:
        """Record an attempt's pid with the next batch."""
        self._spawned.append(record)

    def poke(self) -> None:
        """Flush now (a sink is full, or a heartbeat is due)."""
        self._urgent = True
        if self._wakeup is not None:
            _resolve(self._wakeup)

    def heartbeat(self, run_ids: list[int], now: datetime) -> None:
        """Stamp ``heartbeat_at`` on the runs with the next batch (flushed at once)."""
        self._heartbeat = (run_ids, now)
        self.poke()

    async def finish(self, finish: Finish, rows: list[dict[str, Any]]) -> bool:
        """Write an attempt's outcome and last log rows; False if the run was no longer ours."""
        self._logs.pop(finish.run_id, None)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._finishes.append((finish, rows, done))
        self.poke()
        return await done

    def _take(self) -> tuple[Batch, list[asyncio.Future[bool]]]:
        batch, futures = self._carry if self._carry else (Batch(owner_id=self.owner_id), [])
        self._carry = None
        for run_id, entry in self._logs.items():
            rows = entry.sink.take_rows()
            if rows:
                batch.chunks.extend(rows)
                batch.log_sizes[run_id] = entry.base_size + entry.sink.stored_bytes
        # An attempt that already ended records its pid with its outcome.
        ending = {finish.run_id for finish, _, _ in self._finishes}
        batch.spawned.extend(s for s in self._spawned if s.run_id not in ending)
        self._spawned = []
        for finish, rows, done in self._finishes:
            batch.chunks.extend(rows)
            batch.finishes.append(finish)
            futures.append(done)
        self._finishes = []
        if self._heartbeat is not None:
            batch.heartbeat_runs, batch.heartbeat_at = self._heartbeat
            self._heartbeat = None
        return batch, futures

    def _write(self, batch: Batch, reserved: int) -> tuple[set[int], list[ClaimedRun]]:
        claimed: list[ClaimedRun] = []
        with self.db.write() as session:
            refused = write_batch(session, batch)
            if reserved and self.claims is not None:
                claimed = self.claims.claim(session, reserved)
        return refused, claimed

    async def flush(self) -> bool:
        """Write what is waiting; False when the database refused (it stays queued)."""
        async with self._lock:
            batch, futures = self._take()
            if batch.empty():
                return True
            # Finishes free slots: fill them in the same transaction (one commit, not two).
            hook = self.claims if self._claim_failures < 3 else None
            reserved = hook.reserve() if hook is not None and batch.finishes else 0
            try:
                refused, claimed = await self._call(lambda: self._write(batch, reserved))
            except Exception as exc:
                # Keep everything for the next try; the sinks bound how much can pile up.
                log.warning("executor: writing run state failed, will retry: %s", exc)
                self._carry = (batch, futures)
                if hook is not None:
                    hook.claimed([], reserved)
                if reserved:
                    # Maybe the claim broke the batch: after a few tries, write without it
                    # (the poll loop still claims on its own).
                    self._claim_failures += 1
                return False
            self._claim_failures = 0
            if hook is not None and reserved:
                hook.claimed(claimed, reserved)
        for finish, done in zip(batch.finishes, futures, strict=True):
            if not done.done():
                done.set_result(finish.run_id not in refused)
        return True

    async def run(self) -> None:
        """Flush on demand and every ``flush_seconds`` until closed."""
        loop = asyncio.get_running_loop()
        delay = self.flush_seconds
        while not self._closing:
            if not self._urgent:
                # A bare future and a timer: no task per wake-up (there is one per run).
                self._wakeup = loop.create_future()
                timer = loop.call_later(delay, _resolve, self._wakeup)
                try:
                    await self._wakeup
                finally:
                    timer.cancel()
                    self._wakeup = None
            self._urgent = False
            if await self.flush():
                delay = self.flush_seconds
            else:
                delay = min(MAX_RETRY_SECONDS, max(delay * 2, self.flush_seconds))

    async def close(self) -> None:
        """Stop the loop after a last flush (retrying a while if the database is down)."""
        self._closing = True
        self.poke()
        for attempt in range(20):
            if await self.flush() and not self._carry:
                return
            await asyncio.sleep(min(MAX_RETRY_SECONDS, 0.1 * 2**attempt))
        log.error("executor: could not write the last run state; reconcile will mark it lost")
        if self._carry:
            for done in self._carry[1]:
                if not done.done():
                    done.set_result(False)
