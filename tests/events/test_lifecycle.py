"""Every transition of an event, through the services, with the invariants that make it
visible to the right list and claim checked on the stored item after each step:
status <=> status index key <=> inbox keys <=> lease fields <=> delivered_at <=> TTL, and
type <=> type_key <=> the indexes by type the event is found in."""

from datetime import timedelta

import pytest

from events import ids
from events.lifecycle import DAY_MS, MAX_INDEXED_TYPE, as_datetime
from events.models import INBOX_TYPE_INDEX, TYPE_INDEX, TYPE_STATUS_INDEX, Event
from events.services import (
    event_ack,
    event_claim,
    event_create,
    event_create_batch,
    event_delete,
    event_release,
    event_replay,
    event_retry,
)
from triggerapi.store import now_ms

TENANT = "acme"


@pytest.fixture(autouse=True)
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    return time_machine


def problems(event: Event) -> list[str]:
    """What is wrong with a stored event, by the table in events/lifecycle.py."""
    found = []
    lease = (event.lease_id, event.lease_expires_at, event.leased_at)
    in_inbox = (event.inbox_tenant, event.inbox_key) != (None, None)
    if event.status == "deleted":
        found += ["tombstone keeps a key"] * any([event.tenant_status, in_inbox, *lease, event.payload, event.type_key])
        found += ["tombstone still live"] * (event.expires_at > as_datetime(now_ms()))
        return found
    if event.tenant_status != f"{TENANT}#{event.status}":
        found.append(f"tenant_status {event.tenant_status} for {event.status}")
    typed = event.event_type is not None and len(event.event_type) <= MAX_INDEXED_TYPE
    if event.type_key != (f"{TENANT}#{event.event_type}" if typed else None):
        found.append(f"type_key {event.type_key} for the type {event.event_type}")
    if event.status == "undelivered":
        if event.inbox_tenant != TENANT or not (event.inbox_key or "").endswith(f"#{event.event_id}"):
            found.append("undelivered but not in the inbox")
        if any(lease) and (not all(lease) or int(event.inbox_key[:13]) != event.lease_expires_at):
            found.append("a lease that does not put the event back in the inbox when it ends")
        if event.delivered_at is not None:
            found.append("undelivered with delivered_at")
    else:
        found += [f"{event.status} in the inbox"] * in_inbox + [f"{event.status} with a lease"] * any(lease)
    if (event.status == "delivered") != (event.delivered_at is not None):
        found.append("delivered_at does not match the status")
    if event.status == "delivered" and event.expires_at != as_datetime(event.delivered_at + 7 * DAY_MS):
        found.append("delivered retention is not 7 days from delivery")
    return found


def stored(event_id: str) -> Event:
    return Event.get(TENANT, event_id, consistent_read=True)


def step(event_id: str, expected_status: str) -> Event:
    event = stored(event_id)
    assert (event.status, problems(event)) == (expected_status, [])
    return event


def indexed_under(event_type: str) -> dict[str, list[str]]:
    """The ids each index by type holds for the type (and each status)."""
    key = f"{TENANT}#{event_type}"
    partitions = {
        "type-index": (TYPE_INDEX, (key,)),
        **{f"type-status-index {s}": (TYPE_STATUS_INDEX, (key, s)) for s in ("undelivered", "delivered", "failed")},
        "inbox-type-index": (INBOX_TYPE_INDEX, (key,)),
    }
    return {
        name: [item["sk"]["S"] for item in index.query(Event, values, limit=100)[0]]
        for name, (index, values) in partitions.items()
    }


def only_in(event_id: str, status: str, *, in_inbox: bool) -> dict[str, list[str]]:
    """Where an event of type "t" in this status, and in the inbox or not, must be alone."""
    indexed = {name: [] for name in indexed_under("t")} | {"type-index": [event_id]}
    inbox = {"inbox-type-index": [event_id]} if in_inbox else {}
    return indexed | {f"type-status-index {status}": [event_id]} | inbox


def test_claim_release_claim_ack_keeps_every_invariant(clock):
    event_id = event_create(tenant_id=TENANT, payload={"n": 1}).receipts[0]["id"]
    step(event_id, "undelivered")

    [claimed] = event_claim(tenant_id=TENANT, lease_seconds=30)
    leased = step(event_id, "undelivered")
    assert (leased.attempts, leased.lease_id, leased.lease_expires_at) == (1, claimed.lease_id, now_ms() + 30_000)

    event_release(tenant_id=TENANT, event_id=event_id, delay_seconds=5)
    released = step(event_id, "undelivered")
    assert released.inbox_key.startswith(f"{now_ms() + 5000:013d}#")
    assert event_claim(tenant_id=TENANT) == []

    clock.shift(5)
    [again] = event_claim(tenant_id=TENANT)
    assert again.lease_id != claimed.lease_id and step(event_id, "undelivered").attempts == 2

    event_ack(tenant_id=TENANT, event_id=event_id)
    step(event_id, "delivered")


def test_an_expired_lease_makes_the_event_claimable_with_no_write(clock):
    event_id = event_create(tenant_id=TENANT, payload={"n": 1}).receipts[0]["id"]
    event_claim(tenant_id=TENANT, lease_seconds=10)

    clock.shift(10.001)

    assert [e.event_id for e in event_claim(tenant_id=TENANT)] == [event_id]
    step(event_id, "undelivered")


def test_fail_then_retry_then_delete_keeps_every_invariant(clock, settings):
    settings.MAX_ATTEMPTS = 1
    event_id = event_create(tenant_id=TENANT, payload={"n": 1}).receipts[0]["id"]
    event_claim(tenant_id=TENANT, lease_seconds=1)
    clock.shift(timedelta(seconds=2))
    assert event_claim(tenant_id=TENANT) == []
    step(event_id, "failed")

    event_retry(tenant_id=TENANT, event_id=event_id)
    assert step(event_id, "undelivered").attempts == 0

    event_claim(tenant_id=TENANT)
    event_delete(tenant_id=TENANT, event_id=event_id)
    step(event_id, "deleted")


def test_a_batch_and_a_keyed_create_are_born_valid():
    receipts = event_create_batch(tenant_id=TENANT, payloads=[{"n": i} for i in range(30)]).receipts
    receipts += event_create(tenant_id=TENANT, payload={"n": 1}, idempotency_key="k").receipts

    for receipt in receipts:
        step(receipt["id"], "undelivered")


def test_a_typed_event_is_in_the_indexes_of_its_type_and_status_through_every_transition(clock, settings):
    settings.MAX_ATTEMPTS = 1
    event_id = event_create(tenant_id=TENANT, payload={"event_type": "t"}).receipts[0]["id"]
    step(event_id, "undelivered")
    assert indexed_under("t") == only_in(event_id, "undelivered", in_inbox=True)

    event_claim(tenant_id=TENANT, event_type="t", lease_seconds=1)
    step(event_id, "undelivered")
    assert indexed_under("t") == only_in(event_id, "undelivered", in_inbox=True)

    clock.shift(2)
    assert event_claim(tenant_id=TENANT, event_type="t") == []
    step(event_id, "failed")
    assert indexed_under("t") == only_in(event_id, "failed", in_inbox=False)

    event_retry(tenant_id=TENANT, event_id=event_id)
    event_ack(tenant_id=TENANT, event_id=event_id)
    step(event_id, "delivered")
    assert indexed_under("t") == only_in(event_id, "delivered", in_inbox=False)

    event_replay(tenant_id=TENANT, since=0, until=now_ms() + 1, event_type="t")
    step(event_id, "undelivered")
    assert indexed_under("t") == only_in(event_id, "undelivered", in_inbox=True)

    event_delete(tenant_id=TENANT, event_id=event_id)
    step(event_id, "deleted")
    assert indexed_under("t") == {name: [] for name in indexed_under("t")}


def test_a_type_too_long_to_index_is_stored_and_kept_out_of_the_indexes():
    long_type = "t" * (MAX_INDEXED_TYPE + 1)
    event_id = event_create(tenant_id=TENANT, payload={"event_type": long_type}).receipts[0]["id"]

    event = step(event_id, "undelivered")

    assert (event.event_type, event.type_key) == (long_type, None)
