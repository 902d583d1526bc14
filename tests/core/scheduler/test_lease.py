"""The single-owner lease on one database: acquire, renew, expire, take over, release."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import ManualClock
from core.jobs.scheduler import Lease
from core.storage.database import Database

from .conftest import START


def lease(db: Database, clock: ManualClock, owner: str, ttl: float = 20.0) -> Lease:
    return Lease(db, clock=clock, owner_id=owner, host=f"host-{owner}", pid=7, ttl_seconds=ttl)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def test_first_comer_takes_it_and_current_says_who(database: Database, clock: ManualClock) -> None:
    assert Lease.current(database, clock) is None
    a = Lease(
        database, clock=clock, owner_id="a", host="h", pid=42, ttl_seconds=20, api_address="x:1"
    )
    assert a.try_acquire()
    assert a.holds()
    info = Lease.current(database, clock)
    assert info is not None
    assert (info.owner_id, info.host, info.pid, info.api_address) == ("a", "h", 42, "x:1")
    assert info.live
    assert info.expires_at == START + timedelta(seconds=20)


def test_second_process_never_takes_a_live_lease(database: Database, clock: ManualClock) -> None:
    a, b = lease(database, clock, "a"), lease(database, clock, "b")
    assert a.try_acquire()
    for _ in range(5):
        clock.advance(4)
        assert a.renew()
        assert not b.try_acquire()
        assert not b.holds()
    assert Lease.current(database, clock).owner_id == "a"  # type: ignore[union-attr]


def test_an_expired_lease_is_taken_over_and_the_old_owner_learns_it(
    database: Database, clock: ManualClock
) -> None:
    a, b = lease(database, clock, "a"), lease(database, clock, "b")
    assert a.try_acquire()
    clock.advance(20.5)
    info = Lease.current(database, clock)
    assert info is not None and not info.live
    assert not a.holds()  # by the monotonic clock alone
    assert b.try_acquire()
    assert b.previous_heartbeat == START
    assert not a.renew()
    assert not a.holds()
    assert not a.try_acquire()


def test_a_lapsed_lease_nobody_took_can_be_renewed(database: Database, clock: ManualClock) -> None:
    a = lease(database, clock, "a")
    assert a.try_acquire()
    clock.advance(60)
    assert not a.holds()
    assert a.renew()
    assert a.holds()


def test_holds_uses_the_monotonic_clock_not_the_wall_clock(
    database: Database, clock: ManualClock
) -> None:
    a = lease(database, clock, "a", ttl=10)
    assert a.try_acquire()
    clock.step_wall(timedelta(hours=-5))  # wall moves, monotonic does not
    assert a.holds()
    clock.advance(10)
    assert not a.holds()


def test_reacquiring_keeps_acquired_at(database: Database, clock: ManualClock) -> None:
    a = lease(database, clock, "a")
    assert a.try_acquire()
    clock.advance(5)
    assert a.try_acquire()
    info = Lease.current(database, clock)
    assert info is not None
    assert info.acquired_at == START
    assert info.heartbeat_at == START + timedelta(seconds=5)


def test_release_lets_a_standby_in_at_once(database: Database, clock: ManualClock) -> None:
    a, b = lease(database, clock, "a"), lease(database, clock, "b")
    assert a.try_acquire()
    b.release()  # not b's to release: nothing happens
    assert not b.try_acquire()
    a.release()
    assert not a.holds()
    assert Lease.current(database, clock) is None
    assert b.try_acquire()


def test_check_in_fails_inside_a_transaction_once_taken_over(
    database: Database, clock: ManualClock
) -> None:
    a, b = lease(database, clock, "a"), lease(database, clock, "b")
    assert a.try_acquire()
    with database.write() as session:
        assert a.check_in(session)
    a.confirm()
    clock.advance(21)
    with database.write() as session:
        assert not a.check_in(session)  # expired, even though nobody took it yet
    assert b.try_acquire()
    with database.write() as session:
        assert not a.check_in(session)
    assert not a.holds()


def test_ttl_must_be_positive(database: Database, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="ttl"):
        lease(database, clock, "a", ttl=0)
