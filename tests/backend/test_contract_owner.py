"""Contract: every backend says who owns its database, when the lease was renewed and the
scheduler last ticked, and what that means (the status line's truth)."""

from __future__ import annotations

from datetime import timedelta

from core.backend.views import OwnerView

from .harness import NOW, Harness

TTL = 20.0


def holder(**fields: object) -> OwnerView:
    """A lease row of pid 4321 on host-a, renewed at NOW, that ticked 3 s before."""
    values: dict[str, object] = {
        "owner_id": "0123abcd",
        "host": "host-a",
        "pid": 4321,
        "api_address": "http://127.0.0.1:8765",
        "acquired_at": NOW - timedelta(minutes=10),
        "heartbeat_at": NOW,
        "expires_at": NOW + timedelta(seconds=TTL),
        "ticked_at": NOW - timedelta(seconds=3),
    }
    values.update(fields)
    return OwnerView.model_validate(values)


async def test_nobody_owns_an_empty_database(harness: Harness) -> None:
    health = await harness.backend.owner_health()
    assert health.owner is None
    assert health.checked_at == NOW
    assert health.verdict().state == "none"
    assert health.heartbeat_seconds > 0 and health.lease_ttl_seconds > 0


async def test_the_lease_holder_with_its_renewal_and_last_tick(harness: Harness) -> None:
    harness.hold_lease(holder())
    health = await harness.backend.owner_health()
    assert health.owner == holder()
    assert health.checked_at == NOW
    assert health.lease_ttl_seconds == TTL  # the TTL the owner renews with
    assert health.problem is None
    assert health.verdict() == ("live", 3.0)
    # read-only backends see the owner alike
    assert (await harness.read_only.owner_health()).owner in (None, holder())


async def test_a_stale_owner_is_late_then_unrenewed_then_gone(harness: Harness) -> None:
    harness.hold_lease(holder())
    health = await harness.backend.owner_health()
    beat = health.heartbeat_seconds
    # renewed, but no tick for longer than the scheduler may take
    harness.hold_lease(holder(ticked_at=NOW - timedelta(seconds=3 * beat + 1)))
    late = await harness.backend.owner_health()
    assert late.verdict().state == "late"
    assert late.verdict().seconds == 3 * beat + 1
    # the lease not renewed for a while: late, though not lapsed yet
    quiet = health.lease_late_after + 1
    harness.hold_lease(
        holder(
            heartbeat_at=NOW - timedelta(seconds=quiet),
            expires_at=NOW - timedelta(seconds=quiet) + timedelta(seconds=TTL),
        )
    )
    unrenewed = await harness.backend.owner_health()
    assert unrenewed.verdict() == ("unrenewed", quiet)
    # ... and time passing on the reader's side counts too: past the expiry nobody schedules
    assert unrenewed.verdict(elapsed=TTL).state == "none"
    harness.hold_lease(holder(expires_at=NOW - timedelta(seconds=1)))
    lapsed = await harness.backend.owner_health()
    assert lapsed.owner is not None and lapsed.verdict().state == "none"


async def test_an_owner_that_has_not_ticked_yet(harness: Harness) -> None:
    harness.hold_lease(holder(acquired_at=NOW - timedelta(seconds=1), ticked_at=None))
    health = await harness.backend.owner_health()
    assert health.owner is not None and health.owner.ticked_at is None
    assert health.verdict() == ("live", None)
    assert health.verdict(elapsed=3 * health.heartbeat_seconds).state != "live"
