"""The single-owner lease (ARCHITECTURE.md "Single owner"): one row, one holder, an expiry.

Every change is one conditional UPDATE, so two processes can never both believe they took it:
the database serialises the statements (SQLite's write lock, PostgreSQL's row lock) and the
loser's WHERE clause no longer matches. ``holds`` is a local check on the monotonic clock, so
an owner that was frozen (SIGSTOP, a suspended VM) past its TTL knows it without asking the
database; the scheduler's batch transaction re-checks the row itself (``check_in``) before it
records anything (F3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlmodel import Session

from core.clock import Clock
from core.jobs.scheduler.bulk import insert_ignoring_duplicates, rowcount
from core.storage.database import Database
from core.storage.tables import OwnerLease

log = logging.getLogger("jobdeck.scheduler.lease")

LEASE_NAME = "scheduler"
_TABLE = OwnerLease.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds the lease, and whether it is still live by the reader's clock."""

    owner_id: str
    host: str
    pid: int
    api_address: str | None
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    live: bool
    #: the end of the holder's last completed scheduler tick, as of its last renewal
    ticked_at: datetime | None = None


class Lease:
    """This process's claim on the ``owner_lease`` row."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        owner_id: str,
        host: str,
        pid: int,
        ttl_seconds: float,
        api_address: str | None = None,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.db = db
        self.clock = clock
        self.owner_id = owner_id
        self.host = host
        self.pid = pid
        self.ttl_seconds = ttl_seconds
        self.api_address = api_address
        self._renewed_mono: float | None = None
        self._pending_mono: float | None = None
        #: the previous holder's last heartbeat when we took the lease over (clock checks)
        self.previous_heartbeat: datetime | None = None
        #: the end of this owner's last completed tick: every renewal writes it to the row
        self.ticked_at: datetime | None = None

    # -- operations ------------------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours; True if we hold it now."""
        mono, now = self.clock.monotonic(), self.clock.now()
        expires = now + timedelta(seconds=self.ttl_seconds)
        with self.db.write() as session:
            previous = session.get(OwnerLease, LEASE_NAME)
            inserted = session.execute(
                insert_ignoring_duplicates(session, _TABLE).values(
                    name=LEASE_NAME,
                    owner_id=self.owner_id,
                    host=self.host,
                    pid=self.pid,
                    api_address=self.api_address,
                    acquired_at=now,
                    heartbeat_at=now,
                    expires_at=expires,
                    ticked_at=self.ticked_at,
                )
            )
            taken = rowcount(inserted) == 1
            if not taken:
                # Ours already, or expired: one conditional statement, so of two processes
                # racing for an expired lease exactly one matches.
                mine = _TABLE.c.owner_id == self.owner_id
                result = session.execute(
                    update(_TABLE)
                    .where(_TABLE.c.name == LEASE_NAME, mine | (_TABLE.c.expires_at <= now))
                    .values(
                        owner_id=self.owner_id,
                        host=self.host,
                        pid=self.pid,
                        api_address=self.api_address,
                        acquired_at=case((mine, _TABLE.c.acquired_at), else_=now),
                        heartbeat_at=now,
                        expires_at=expires,
                        ticked_at=self.ticked_at,
                    )
                )
                taken = rowcount(result) == 1
            self.previous_heartbeat = (
                previous.heartbeat_at
                if taken and previous is not None and previous.owner_id != self.owner_id
                else None
            )
        self._renewed_mono = mono if taken else None
        if taken:
            log.debug("lease %s held by %s until %s", LEASE_NAME, self.owner_id, expires)
        return taken

    def renew(self) -> bool:
        """Extend our lease; False means someone else holds it now (we lost it)."""
        mono = self.clock.monotonic()
        with self.db.write() as session:
            renewed = self._extend(session, require_live=False)
        self._renewed_mono = mono if renewed else None
        return renewed

    def check_in(self, session: Session) -> bool:
        """Inside a caller's write transaction: extend the lease only if it is ours and live.

        The scheduler calls this first in every batch, so the batch commits only while this
        process holds a live lease; on False the caller must roll back and stop firing.
        """
        mono = self.clock.monotonic()
        held = self._extend(session, require_live=True)
        if held:
            # Counted from before the statement: conservative, as the expiry written was.
            self._pending_mono = mono
        else:
            self._renewed_mono = None
        return held

    def confirm(self) -> None:
        """The transaction that called ``check_in`` committed: the renewal counts."""
        if self._pending_mono is not None:
            self._renewed_mono = self._pending_mono
            self._pending_mono = None

    def release(self) -> None:
        """Give the lease up (only if it is still ours), so a standby can take over at once."""
        with self.db.write() as session:
            session.execute(
                delete(_TABLE).where(
                    _TABLE.c.name == LEASE_NAME, _TABLE.c.owner_id == self.owner_id
                )
            )
        self._renewed_mono = None

    def ticked(self, at: datetime) -> None:
        """The scheduler completed a tick at ``at``: the next renewal records it."""
        self.ticked_at = at

    def holds(self) -> bool:
        """True while our last successful renewal is within the TTL, by the monotonic clock."""
        if self._renewed_mono is None:
            return False
        return self.clock.monotonic() - self._renewed_mono < self.ttl_seconds

    def seconds_since_renewal(self) -> float | None:
        """Monotonic seconds since the last successful renewal, or None if not held."""
        if self._renewed_mono is None:
            return None
        return self.clock.monotonic() - self._renewed_mono

    @staticmethod
    def current(db: Database, clock: Clock) -> LeaseInfo | None:
        """Who holds the lease (None if nobody ever took it or it was released)."""
        with db.read() as session:
            row = session.get(OwnerLease, LEASE_NAME)
            if row is None:
                return None
            return LeaseInfo(
                owner_id=row.owner_id,
                host=row.host,
                pid=row.pid,
                api_address=row.api_address,
                acquired_at=row.acquired_at,
                heartbeat_at=row.heartbeat_at,
                expires_at=row.expires_at,
                live=row.expires_at > clock.now(),
                ticked_at=row.ticked_at,
            )

    # -- helpers ---------------------------------------------------------------------------

    def _extend(self, session: Session, *, require_live: bool) -> bool:
        now = self.clock.now()
        conditions = [_TABLE.c.name == LEASE_NAME, _TABLE.c.owner_id == self.owner_id]
        if require_live:
            conditions.append(_TABLE.c.expires_at > now)
        result = session.execute(
            update(_TABLE)
            .where(*conditions)
            .values(
                heartbeat_at=now,
                expires_at=now + timedelta(seconds=self.ttl_seconds),
                ticked_at=self.ticked_at,
            )
        )
        return rowcount(result) == 1
