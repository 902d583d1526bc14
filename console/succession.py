"""Who schedules for the console's database, kept true while the console runs.

The README promises that a console "takes over by itself if the owner goes away". A console
on the default database (no ``--backend``) keeps the database open beside whatever it is
attached to, reads the lease row every heartbeat, and:

- nobody holds a live lease (the owner quit, or died and its lease lapsed): it takes the
  lease itself (never when read-only) and says so; the screens reload from the database;
- another owner holds it (a daemon restarted, maybe on another port): it attaches to that
  owner's API, found through the lease row's address and the owner's ``owner.token``, or
  uses the database directly when it cannot;
- the owner this console ran lost the lease: it stops it and follows the new owner.

The app holds one backend proxy (``PendingBackend``) for its whole life; a move here
re-points it (``JobdeckApp.switch_backend``), so the screens keep their backend and reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from console.embedded import EmbeddedOwner
from console.widgets import SessionInfo
from core.backend.protocol import Backend

if TYPE_CHECKING:
    from core.backend.local import LocalBackend
    from core.backend.views import OwnerView
    from core.jobs.executor.config import ActiveRunInfo
    from core.settings.config import Settings

log = logging.getLogger("jobdeck.console")

#: Tells the app the console now talks to a backend, in a mode, with a note for the operator.
Switch = Callable[[Backend, str, "str | None"], None]
#: A backend left behind is closed this long after the move (calls in flight finish).
CLOSE_AFTER_SECONDS = 5.0
#: Attaching to a new owner's API gives up after this long (the database is used meanwhile).
ATTACH_SECONDS = 5.0


def holder_label(owner: OwnerView) -> str:
    """How the status line names an owner: ``host pid N``."""
    return f"{owner.host} pid {owner.pid}"


class Succession:
    """Follows the owner of the console's database: takes over, or re-attaches."""

    def __init__(
        self,
        settings: Settings,
        local: LocalBackend,
        current: Backend,
        *,
        settled_with: str | None,
        token: str | None,
    ) -> None:
        self.settings = settings
        #: the database itself, open for the whole session (read-only when the session is)
        self.local = local
        #: what the app talks to now: ``local``, or a live owner's API
        self.current = current
        #: the owner id of the owner this console is attached to or stands by for
        self.settled_with = settled_with
        self.token = token
        self.embedded = None if settings.read_only else EmbeddedOwner(settings, local)
        self._held: list[Backend] = [local] if current is local else [local, current]
        self._switch: Switch | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._closers: set[asyncio.Task[None]] = set()

    @property
    def active_runs(self) -> int:
        """Runs executing in this process right now."""
        return len(self.executing)

    @property
    def executing(self) -> tuple[ActiveRunInfo, ...]:
        """The runs executing in this process right now (while it owns the database)."""
        return self.embedded.executing if self.embedded is not None else ()

    @property
    def owning(self) -> bool:
        """True while this console holds the lease."""
        return self.embedded is not None and self.embedded.owner is not None

    async def start(self, session: SessionInfo, switch: Switch | None = None) -> None:
        """Own the database now if nobody does, then keep watching its owner."""

        def set_mode(backend: Backend, mode: str, note: str | None) -> None:
            session.mode = mode

        self._switch = switch or set_mode
        try:
            await self.look()
        except Exception:  # the database busy for a moment: the watch looks again soon
            log.warning("looking for the database's owner failed", exc_info=True)
        self._task = asyncio.create_task(self._watch(), name="jobdeck-succession")

    async def _watch(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.scheduler.heartbeat_seconds)
            if self._stopping:
                return
            try:
                await self.look()
            except Exception:  # the database busy or gone for a moment: look again later
                log.warning("looking for the database's owner failed", exc_info=True)

    async def look(self) -> None:
        """Read the lease once and act on what it says."""
        embedded = self.embedded
        if embedded is not None and embedded.owner is not None:
            if not embedded.lost_lease:
                return
            await embedded.stop("lost the lease to another owner", for_good=False)
            self.settled_with = None
        health = await self.local.owner_health()
        holder = health.owner
        if holder is None or health.verdict().state == "none":
            await self._nobody_owns(holder)
        elif holder.owner_id != self.settled_with:
            await self._follow(holder)
        elif self.current is self.local and not self.owning and holder.api_address:
            # An owner publishes its token just after it takes the lease: attach once it has.
            await self._follow(holder, quiet=True)

    async def _nobody_owns(self, gone: OwnerView | None) -> None:
        was = holder_label(gone) if gone is not None else None
        if self.embedded is not None and await self.embedded.try_own():
            owner = self.embedded.owner
            self.settled_with = owner.owner_id if owner is not None else None
            note = None
            if self.current is not self.local or was is not None:
                note = (
                    f"{'The owner ' + was if was else 'The owner'} went away: this console "
                    "now owns the database and schedules"
                )
            self._move(self.local, "embedded", note)
            return
        if self.settled_with is None and self.current is self.local:
            return  # said already (or nothing to say: a read-only console, nobody owning)
        self.settled_with = None
        why = "this console is read-only" if self.settings.read_only else "the lease was taken"
        self._move(
            self.local,
            "read-only" if self.settings.read_only else "standby",
            f"{'The owner ' + was if was else 'The owner'} went away and nobody is scheduling "
            f"({why})",
        )

    async def _follow(self, holder: OwnerView, *, quiet: bool = False) -> None:
        from core.backend.factory import attach_to_owner

        label = holder_label(holder)
        problems: list[str] = []
        try:
            # Bounded: a frozen owner's socket accepts, then never answers.
            attached = await asyncio.wait_for(
                attach_to_owner(self.settings, self.local.db, self.token, problems.append),
                ATTACH_SECONDS,
            )
        except TimeoutError:
            attached = None
            problems.append(f"its API did not answer within {ATTACH_SECONDS:.0f}s")
        self.settled_with = holder.owner_id
        if attached is not None:
            backend, mode = attached
            self._held.append(backend)
            self._move(backend, mode, f"{label} owns the database now: attached to it")
            return
        if quiet:
            return  # already said, and nothing changed
        note = f"{label} owns the database now"
        if problems:
            note += f"; {problems[0]}"
        self._move(self.local, f"attached to {label}", note)

    def _move(self, backend: Backend, mode: str, note: str | None) -> None:
        previous, self.current = self.current, backend
        if self._switch is not None:
            self._switch(backend, mode, note)
        if note:
            log.info("%s", note)
        if previous is not backend and previous is not self.local:
            closer = asyncio.create_task(self._close_later(previous))
            self._closers.add(closer)
            closer.add_done_callback(self._closers.discard)

    async def _close_later(self, backend: Backend) -> None:
        await asyncio.sleep(CLOSE_AFTER_SECONDS)
        await self._close(backend)

    async def _close(self, backend: Backend) -> None:
        if backend in self._held:
            self._held.remove(backend)
            with contextlib.suppress(Exception):
                await backend.close()

    async def stop(self, reason: str) -> None:
        """Stop watching; stop this console's owner (its runs get a grace) and release."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        if self.embedded is not None:
            await self.embedded.stop(reason)

    async def close(self) -> None:
        """Close every backend this console held (after ``stop``)."""
        for closer in list(self._closers):
            closer.cancel()
        for backend in list(self._held):
            await self._close(backend)
