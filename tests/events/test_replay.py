"""Replay: delivered and failed events of a time range go back to undelivered, keeping their
id, payload and created_at; 1000 per call with a cursor; the status index, never a scan."""

import pytest
from rest_framework.exceptions import ValidationError

from events import ids
from events.models import Event
from events.services import event_ack, event_claim, event_create_batch, event_replay
from events.services import replay as replay_module
from tests.store_hooks import store_calls
from triggerapi.store import now_ms

TENANT = "acme"


@pytest.fixture(autouse=True)
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    return time_machine


def create(count: int, tenant: str = TENANT) -> list[str]:
    return [r["id"] for r in event_create_batch(tenant_id=tenant, payloads=[{"n": i} for i in range(count)]).receipts]


def fail(event_ids: list[str], settings, clock) -> None:
    """Claims until these events fail (MAX_ATTEMPTS 1: the claim after the first lease)."""
    settings.MAX_ATTEMPTS = 1
    event_claim(tenant_id=TENANT, limit=100, lease_seconds=1)
    clock.shift(2)
    assert event_claim(tenant_id=TENANT, limit=100) == []
    settings.MAX_ATTEMPTS = 5


def status(event_id: str, tenant: str = TENANT) -> tuple[str, int]:
    event = Event.get(tenant, event_id)
    return event.status, event.attempts


def test_a_range_replays_delivered_and_failed_events_and_leaves_undelivered_ones(settings, clock):
    start = now_ms()
    failed = create(2)
    fail(failed, settings, clock)
    delivered, untouched = create(3), create(1)
    clock.shift(1)
    later = create(1)
    for event_id in delivered + later:
        event_ack(tenant_id=TENANT, event_id=event_id)
    before = {event_id: Event.get(TENANT, event_id) for event_id in failed + delivered}

    with store_calls() as calls:
        replayed, cursor = event_replay(tenant_id=TENANT, since=start, until=now_ms())

    assert (replayed, cursor) == (5, None)
    assert {status(event_id) for event_id in failed + delivered} == {("undelivered", 0)}
    assert status(untouched[0]) == ("undelivered", 0) and status(later[0])[0] == "delivered"
    claimed = event_claim(tenant_id=TENANT, limit=100)
    assert [e.event_id for e in claimed] == sorted(failed + delivered + untouched)
    for event in claimed:
        original = before.get(event.event_id) or event
        assert (event.payload, event.created_at) == (original.payload, original.created_at)
    assert "Scan" not in calls and calls["Query"] == 2


def test_statuses_and_event_type_narrow_what_is_replayed(settings, clock):
    start = now_ms()
    failed = create(1)
    fail(failed, settings, clock)
    [delivered] = create(1)
    event_ack(tenant_id=TENANT, event_id=delivered)

    replayed, _ = event_replay(tenant_id=TENANT, since=start, until=now_ms() + 1, statuses=("failed",))

    assert replayed == 1 and status(failed[0])[0] == "undelivered" and status(delivered)[0] == "delivered"
    assert event_replay(tenant_id=TENANT, since=start, until=now_ms() + 1, event_type="other") == (0, None)


def test_more_than_a_page_goes_on_with_the_cursor(monkeypatch):
    monkeypatch.setattr(replay_module, "REPLAY_PAGE", 4)
    event_ids = create(10)
    for event_id in event_ids:
        event_ack(tenant_id=TENANT, event_id=event_id)

    counts, cursor = [], None
    while True:
        replayed, cursor = event_replay(tenant_id=TENANT, since=0, until=now_ms() + 1, cursor=cursor)
        counts.append(replayed)
        if cursor is None:
            break

    assert counts == [4, 4, 2]
    assert {status(event_id)[0] for event_id in event_ids} == {"undelivered"}


def test_another_tenants_events_are_untouched_and_its_cursor_is_refused(monkeypatch):
    monkeypatch.setattr(replay_module, "REPLAY_PAGE", 1)
    [theirs] = create(1, tenant="globex")
    event_ack(tenant_id="globex", event_id=theirs)
    mine = create(2)
    for event_id in mine:
        event_ack(tenant_id=TENANT, event_id=event_id)

    _, cursor = event_replay(tenant_id=TENANT, since=0, until=now_ms() + 1)

    assert status(theirs, "globex")[0] == "delivered"
    with pytest.raises(ValidationError):
        event_replay(tenant_id="globex", since=0, until=now_ms() + 1, cursor=cursor)
    with pytest.raises(ValidationError):
        event_replay(tenant_id=TENANT, since=1, until=now_ms() + 1, cursor=cursor)


def test_a_replayed_event_lives_another_retention_period_from_the_replay(clock):
    [event_id] = create(1)
    event_ack(tenant_id=TENANT, event_id=event_id)
    clock.shift(6 * 86400)

    event_replay(tenant_id=TENANT, since=0, until=now_ms())
    clock.shift(29 * 86400)

    assert [e.event_id for e in event_claim(tenant_id=TENANT)] == [event_id]
