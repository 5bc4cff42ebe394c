"""Heartbeats and releases by lease id: only the current lease of an event can be extended or
released, never past 12 h from its claim, and the refusals say why."""

import pytest
from rest_framework.exceptions import ValidationError

from events import ids
from events.lifecycle import MAX_LEASE_SECONDS
from events.services import event_ack, event_claim, event_create, event_extend, event_release
from triggerapi.exceptions import Conflict
from triggerapi.store import now_ms

TENANT = "acme"


@pytest.fixture(autouse=True)
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    return time_machine


@pytest.fixture
def leased():
    """An event just claimed for 30 s: (its id, its lease id)."""
    event_id = event_create(tenant_id=TENANT, payload={"n": 1}).receipts[0]["id"]
    [claimed] = event_claim(tenant_id=TENANT, lease_seconds=30)
    return event_id, claimed.lease_id


def test_every_claim_opens_a_lease_with_a_new_id(clock):
    event_create(tenant_id=TENANT, payload={"n": 1})
    first = event_claim(tenant_id=TENANT, lease_seconds=1)[0].lease_id
    clock.shift(2)
    second = event_claim(tenant_id=TENANT, lease_seconds=1)[0].lease_id

    assert first and second and first != second


def test_extend_moves_the_end_of_the_current_lease_and_keeps_its_id(leased, clock):
    event_id, lease_id = leased
    clock.shift(20)

    extended = event_extend(tenant_id=TENANT, event_id=event_id, lease_id=lease_id, lease_seconds=60)

    assert (extended.lease_id, extended.lease_expires_at) == (lease_id, now_ms() + 60_000)
    clock.shift(59)
    assert event_claim(tenant_id=TENANT) == []


@pytest.mark.parametrize("how", ["stale id", "ended", "released", "acked", "claimed again"])
def test_extend_of_a_lease_that_is_gone_is_a_conflict(leased, clock, how):
    event_id, lease_id = leased
    if how == "ended":
        clock.shift(31)
    elif how == "released":
        event_release(tenant_id=TENANT, event_id=event_id)
    elif how == "acked":
        event_ack(tenant_id=TENANT, event_id=event_id)
    elif how == "claimed again":
        clock.shift(31)
        event_claim(tenant_id=TENANT)

    with pytest.raises(Conflict, match="is gone"):
        event_extend(
            tenant_id=TENANT, event_id=event_id, lease_id="stale" if how == "stale id" else lease_id, lease_seconds=30
        )


def test_a_lease_cannot_run_past_12_hours_from_its_claim(leased, clock):
    event_id, lease_id = leased
    event_extend(tenant_id=TENANT, event_id=event_id, lease_id=lease_id, lease_seconds=11 * 3600)
    clock.shift(11 * 3600 - 1)
    event_extend(tenant_id=TENANT, event_id=event_id, lease_id=lease_id, lease_seconds=3601)

    with pytest.raises(ValidationError) as refused:
        event_extend(tenant_id=TENANT, event_id=event_id, lease_id=lease_id, lease_seconds=3602)

    assert refused.value.detail == {
        "lease_seconds": [f"A lease runs at most {MAX_LEASE_SECONDS} s from its claim; 3601 s are left."]
    }


def test_release_by_lease_id_releases_only_that_lease(leased, clock):
    event_id, lease_id = leased

    with pytest.raises(Conflict):
        event_release(tenant_id=TENANT, event_id=event_id, lease_id="stale")
    released = event_release(tenant_id=TENANT, event_id=event_id, lease_id=lease_id)

    assert (released.lease_id, released.lease_expires_at) == (None, None)
    with pytest.raises(Conflict):
        event_release(tenant_id=TENANT, event_id=event_id, lease_id=lease_id)
    assert [e.event_id for e in event_claim(tenant_id=TENANT)] == [event_id]
