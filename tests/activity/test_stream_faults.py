"""The stream side of the fault matrix (tests/test_store_faults.py has the routes'): each kind
of store fault at each store request the stream function makes for a batch of new events
(fan-out's reads and writes and the activity transaction, side by side), once or for good.
Whatever the fault, the function either finishes the batch or hands its records back
(`batchItemFailures`, or an error: Lambda hands the whole batch over again either way); the
batch handed over again with the fault gone, every event is counted once, has one `ingested`
entry in its history and one delivery per hook, and each hook owes one delivery per event."""

import uuid

import pytest

from activity.history import history_page
from activity.selectors import stats_get
from hooks import handler
from tests.faults import KINDS, inject, recording
from tests.hooks.api.deliveries_stored import deliveries_of, sender, stream_of, subscribe
from triggerapi import store
from triggerapi.store import StoreUnavailable

EVENTS = 3


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)


@pytest.fixture
def fake(monkeypatch):
    return sender(monkeypatch)


def new_batch(fake) -> tuple[str, list[str], dict]:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    hooks = [subscribe(fake, tenant, n) for n in range(2)]
    return tenant, hooks, stream_of(tenant, EVENTS)


def handed(batch: dict) -> bool:
    """The stream function given the batch: whether it finished every record."""
    try:
        return not handler.handle_stream(batch)["batchItemFailures"]
    except StoreUnavailable:
        return False


def assert_counted_once(tenant: str, hooks: list[str], batch: dict) -> None:
    stats = stats_get(tenant_id=tenant)
    assert (stats["events"]["undelivered"], stats["events"]["ingested"]["1h"]) == (EVENTS, EVENTS)
    assert {h["id"]: h["pending"] for h in stats["hooks"]} == dict.fromkeys(hooks, EVENTS)
    for record in batch["Records"]:
        event_id = record["dynamodb"]["NewImage"]["sk"]["S"]
        entries = history_page(tenant_id=tenant, event_id=event_id).items
        assert [e["what"] for e in entries] == ["ingested"], event_id
    assert sorted(d.event_id for d in deliveries_of(tenant, *hooks)) == sorted(
        r["dynamodb"]["NewImage"]["sk"]["S"] for r in batch["Records"] for _ in hooks
    )


@pytest.mark.parametrize("kind", KINDS)
def test_every_store_fault_on_the_stream_side_ends_with_each_event_counted_once(kind, fake):
    tenant, hooks, batch = new_batch(fake)
    with recording() as clean:
        assert handed(batch)
    assert_counted_once(tenant, hooks, batch)
    outcomes = set()

    for at in range(1, len(clean.requests) + 1):
        for down in (False, True):
            tenant, hooks, batch = new_batch(fake)
            with inject(kind, at=at, down=down) as injector:
                done = handed(batch)
            assert injector.faulted, (kind, at, down)
            outcomes.add(done)
            if not done:
                assert handed(batch), (kind, at, down)
            assert_counted_once(tenant, hooks, batch)

    assert False in outcomes  # the fault for good reached the caller: the batch went back
