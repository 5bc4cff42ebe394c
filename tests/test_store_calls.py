"""With a warm key cache, each basic operation is exactly one DynamoDB call; push delivery's
calls per delivery are counted too."""

from datetime import UTC, datetime

import pytest

from events import ids
from hooks import handler
from hooks.ids import delivery_id_for
from tests.hooks.api.deliveries_stored import stream_of
from tests.hooks.receiver import Receiver, status
from tests.store_hooks import store_calls


@pytest.fixture
def warm(acme):
    acme.get("/health")
    acme.get("/v1/events?limit=1")
    return acme


def test_create_is_one_put(warm):
    with store_calls() as calls:
        assert warm.post("/v1/events", {"a": 1}, format="json").status_code == 201

    assert dict(calls) == {"PutItem": 1}


def test_get_is_one_get(warm, create_event):
    event_id = create_event(warm)

    with store_calls() as calls:
        assert warm.get(f"/v1/events/{event_id}").status_code == 200

    assert dict(calls) == {"GetItem": 1}


def test_ack_is_one_conditional_update(warm, create_event):
    event_id = create_event(warm)

    with store_calls() as calls:
        assert warm.post(f"/v1/events/{event_id}/ack").status_code == 200

    assert dict(calls) == {"UpdateItem": 1}


def test_delete_is_one_conditional_update_to_a_tombstone(warm, create_event):
    event_id = create_event(warm)

    with store_calls() as calls:
        assert warm.delete(f"/v1/events/{event_id}").status_code == 204

    assert dict(calls) == {"UpdateItem": 1}


def test_a_page_of_the_list_is_one_query(warm, create_event):
    for _ in range(5):
        create_event(warm)

    with store_calls() as calls:
        assert len(warm.get("/v1/events?limit=3&status=undelivered").json()["events"]) == 3

    assert dict(calls) == {"Query": 1}


@pytest.fixture
def receiver(settings):
    settings.HOOKS_ALLOW_HTTP = settings.HOOKS_ALLOW_PRIVATE_TARGETS = True
    with Receiver() as running:
        yield running


def test_fan_out_is_two_transactions_per_batch_and_one_lane_notice_per_hook(warm, receiver):
    """The tenant's hooks read, the deliveries made in one transaction, the hook's lane
    marked ready, the tenant's counts and the events' histories in one more transaction;
    no attempt (the dispatcher makes them)."""
    warm.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json")
    records = stream_of("acme", 10)

    with store_calls() as calls:
        assert handler.handle_stream(records) == {"batchItemFailures": []}

    assert dict(calls) == {"Query": 1, "TransactWriteItems": 2, "UpdateItem": 1}
    assert receiver.requests == []


def test_a_due_retry_through_the_dispatcher(warm, receiver, time_machine, monkeypatch):
    """One dispatcher pass: the ready-index read (4 shards, twice: the second round finds
    nothing more), the hook's queue read, a place in flight taken, the hook read, the lane
    requeued, the claim (with the hook's check, the attempt counted), the claimed delivery and
    its event read, the outcome written with the attempt's record (one transaction), the lane
    told of the next retry (two writes: it was ready sooner already, so only its version
    moves), the place given back, the attempt's counts (one transaction for the tenant, as
    the dispatcher ends). The limits'
    calls (the tenant's limits, a grant of tokens) are counted apart."""
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to(datetime(2027, 6, 1, tzinfo=UTC), tick=True)
    receiver.answer = status(500)
    warm.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json")
    handler.handle_stream(stream_of("acme", 1))
    time_machine.shift(60)

    with store_calls() as calls:
        assert handler.run_due() == {"attempted": 1}

    assert dict(calls) == {"Query": 9, "GetItem": 3, "TransactWriteItems": 3, "UpdateItem": 5}


def test_a_deliverys_attempts_are_its_hook_and_delivery_read_and_one_query(warm, receiver):
    hook_id = warm.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json").json()["id"]
    records = stream_of("acme", 1)
    event_id = records["Records"][0]["dynamodb"]["NewImage"]["sk"]["S"]
    handler.handle_stream(records)
    handler.run_due()

    with store_calls() as calls:
        response = warm.get(f"/v1/hooks/{hook_id}/deliveries/{delivery_id_for(hook_id, event_id)}/attempts")

    assert [a["status_code"] for a in response.json()["attempts"]] == [200]
    assert dict(calls) == {"GetItem": 2, "Query": 1}
