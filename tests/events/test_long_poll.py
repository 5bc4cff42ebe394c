"""A claim that waits: it returns as soon as one of its tenant's matching events is
claimable, reads the inbox at most 4 times per waited second, and not at all once it has
events. The waits here are real: waiting is the behaviour under test."""

import threading
import time

import pytest

from events.services import claim as claim_module
from events.services import event_claim, event_create, wakeups
from tests.store_hooks import store_calls


def wait_in_thread(**claim) -> dict:
    """Starts a waiting claim; the result dict fills in when it returns."""
    result: dict = {}

    def run():
        result["events"] = event_claim(tenant_id="acme", **claim)
        result["returned"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    result["thread"] = thread
    deadline = time.monotonic() + 5
    while "acme" not in wakeups._waiting:  # until the claim is waiting, not for a set time
        assert time.monotonic() < deadline, "the claim never started waiting"
        time.sleep(0.001)
    return result


def test_an_empty_wait_returns_nothing_after_the_wait_with_at_most_4_queries_a_second():
    with store_calls() as calls:  # setting up the hook makes every model's client: not the claim's time
        started = time.monotonic()
        events = event_claim(tenant_id="acme", wait_seconds=2)
        waited = time.monotonic() - started

    assert events == []
    # Not before the wait is over; the upper bound only says it does not overstay by
    # much (a loaded machine delays the last poll, so it is not a poll interval).
    assert 2 <= waited < 3.5
    assert dict(calls) == {"Query": calls["Query"]} and calls["Query"] <= 1 + 4 * 2


def test_an_event_ingested_during_the_wait_wakes_the_claim(monkeypatch):
    """With the idle poll pushed past the wait, only the ingest's wake-up can end it early
    (measured against a bound no busy machine comes near, not against the poll interval)."""
    monkeypatch.setattr(claim_module, "IDLE_POLL_SECONDS", 60)
    waiting = wait_in_thread(wait_seconds=20)

    event_id = event_create(tenant_id="acme", payload={"n": 1}).receipts[0]["id"]
    ingested = time.monotonic()
    waiting["thread"].join()

    assert [e.event_id for e in waiting["events"]] == [event_id]
    assert waiting["returned"] - ingested < 10


@pytest.mark.parametrize("tenant,event_type", [("globex", "a"), ("acme", "b")], ids=["other-tenant", "other-type"])
def test_only_the_tenants_matching_events_end_the_wait(tenant, event_type):
    waiting = wait_in_thread(wait_seconds=1, event_type="a")

    event_create(tenant_id=tenant, payload={"event_type": event_type})
    waiting["thread"].join()

    assert waiting["events"] == []


def test_a_claim_that_has_events_makes_no_further_query():
    event_create(tenant_id="acme", payload={"n": 1})

    with store_calls() as calls:
        events = event_claim(tenant_id="acme", wait_seconds=10)

    assert len(events) == 1 and dict(calls) == {"Query": 1, "UpdateItem": 1}
