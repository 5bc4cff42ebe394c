"""The fault matrix for the delivery writes no request makes (tests/test_store_faults.py has
the manual retry's): a due delivery whose claim ran out, so that run_due lapses it, claims
it, reads its event and records the outcome, with each kind of store fault at each of
run_due's store requests, once (our retry absorbs it) and for good (the store goes down
there). run_due never raises, the stored delivery keeps the lifecycle's invariants, no send
goes uncounted, every attempt counted but the one in flight is recorded, and once the store
is back the delivery is delivered.

Three kinds of fault, one of each way a request can fail (tests/faults.py): answered with an
error and not applied, never sent, applied with its answer lost. The other three fail the
same ways, and the whole matrix of six took two minutes on two shared cores."""

from datetime import UTC, datetime

import pytest

from events import ids
from hooks import dispatch, handler, lifecycle
from tests.faults import inject, recording
from tests.hooks.api.deliveries_stored import (
    context,
    deliveries_of,
    due_entries,
    owed,
    problems,
    recorded,
    sender,
    stream_of,
    subscribe,
)
from triggerapi import store


@pytest.fixture
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to(datetime(2027, 6, 1, 12, 0, tzinfo=UTC), tick=False)
    return time_machine


def lapsed_delivery(fake, clock, n: int) -> tuple[str, str]:
    """(tenant, hook id) of one delivery whose first claim ran out unrecorded, now due."""
    tenant = f"t{n}x{ids.new_event_ids()[0][-8:].lower()}"
    hook_id = subscribe(fake, tenant, n)
    handler.handle_stream(stream_of(tenant), context(0))
    [entry] = due_entries()
    assert dispatch.claim_due(*entry, {}) is not None  # and its process dies
    clock.shift(lifecycle.claim_ms() / 1000 + 7)
    return tenant, hook_id


@pytest.mark.parametrize("kind", ["throttled", "reset", "lost"])
def test_a_store_fault_at_any_request_of_run_due_leaves_the_delivery_valid_counted_and_delivered(
    kind, clock, monkeypatch
):
    fake = sender(monkeypatch)
    lapsed_delivery(fake, clock, 0)
    with recording() as clean:
        assert handler.run_due() == {"attempted": 1}
    assert clean.requests, "run_due made no store request"

    for n, (at, down) in enumerate((at, down) for at in range(1, len(clean.requests) + 1) for down in (False, True)):
        tenant, hook_id = lapsed_delivery(fake, clock, n + 1)
        sent = len(fake.sent)
        with inject(kind, at=at, down=down) as injector:
            handler.run_due()
        assert injector.faulted, (kind, at, down)
        [delivery] = deliveries_of(tenant, hook_id)
        assert (problems(delivery), delivery.status in ("pending", "succeeded")) == ([], True), (kind, at, down)
        assert len(fake.sent) - sent <= delivery.attempts - 1, (kind, at, down)
        assert recorded(delivery) == owed(delivery), (kind, at, down)

        for _ in range(3):  # the store is back: lapsed again if need be, then delivered
            if delivery.status == "succeeded":
                break
            clock.shift(3600)
            handler.run_due()
            [delivery] = deliveries_of(tenant, hook_id)
        assert (delivery.status, problems(delivery)) == ("succeeded", []), (kind, at, down, delivery.last_error)
        assert recorded(delivery) == owed(delivery) == list(range(1, delivery.attempts + 1)), (kind, at, down)
