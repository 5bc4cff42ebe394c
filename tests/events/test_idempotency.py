"""Idempotency-Key: the same request again gets the original outcome and stores nothing new."""

import pytest

from events import ids
from events.models import Event
from events.services import ingest
from tests.store_hooks import store_calls, store_failing


@pytest.fixture
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    return time_machine


def post(client, payload, key, path="/v1/events"):
    return client.post(path, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def stored_ids() -> list[str]:
    return [event.event_id for event in Event.query("acme", Event.event_id.startswith("evt_"))]


def test_same_key_and_body_answers_the_original_again_with_200_and_stores_nothing_new(acme):
    first = post(acme, {"event_type": "order.paid", "n": 1}, "order-1")
    again = post(acme, {"n": 1, "event_type": "order.paid"}, "order-1")

    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert stored_ids() == [first.json()["id"]]


def test_same_key_with_a_different_body_is_422(acme):
    post(acme, {"n": 1}, "order-1")

    response = post(acme, {"n": 2}, "order-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert len(stored_ids()) == 1


def test_a_key_used_for_a_single_event_cannot_be_reused_for_a_batch(acme):
    post(acme, {"n": 1}, "k")

    response = post(acme, {"events": [{"n": 1}]}, "k", path="/v1/events/batch")

    assert response.status_code == 422


def test_key_is_kept_24_hours(acme, clock):
    first = post(acme, {"n": 1}, "k").json()["id"]

    clock.shift(24 * 3600 - 1)
    assert post(acme, {"n": 1}, "k").status_code == 200
    clock.shift(2)
    second = post(acme, {"n": 1}, "k")

    assert second.status_code == 201
    assert second.json()["id"] != first


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve"])
def test_malformed_idempotency_key_is_400(acme, key):
    response = post(acme, {"n": 1}, key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["details"]
    assert stored_ids() == []


def test_an_answer_given_again_is_one_store_call(acme):
    post(acme, {"n": 1}, "k")

    with store_calls() as calls:
        assert post(acme, {"n": 1}, "k").status_code == 200

    assert dict(calls) == {"TransactWriteItems": 1}


def test_a_batch_sent_again_gets_the_original_ids(acme):
    body = {"events": [{"n": i} for i in range(30)]}

    first = post(acme, body, "batch-1", path="/v1/events/batch")
    again = post(acme, body, "batch-1", path="/v1/events/batch")
    other = post(acme, {"events": [{"n": 0}]}, "batch-1", path="/v1/events/batch")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 422)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(stored_ids()) == 30


def test_batch_that_failed_part_way_is_completed_by_a_retry_with_the_same_key(acme):
    body = {"events": [{"n": i} for i in range(60)]}
    with store_failing("ThrottlingException", operations={"BatchWriteItem"}):
        failed = post(acme, body, "batch-1", path="/v1/events/batch")

    retried = post(acme, body, "batch-1", path="/v1/events/batch")

    assert failed.status_code == 503
    assert retried.status_code == 200 and retried["Idempotent-Replayed"] == "true"
    assert sorted(stored_ids()) == [r["id"] for r in retried.json()["events"]]
    assert len(stored_ids()) == 60


def test_batch_whose_writer_vanished_is_finished_once_its_lease_runs_out(acme, clock, monkeypatch):
    monkeypatch.setattr(ingest, "WAIT_FOR_PENDING_SECONDS", 0)
    body = {"events": [{"n": i} for i in range(3)]}
    with store_failing("ThrottlingException", operations={"BatchWriteItem", "UpdateItem"}):
        post(acme, body, "batch-1", path="/v1/events/batch")

    while_leased = post(acme, body, "batch-1", path="/v1/events/batch")
    clock.shift(ingest.BATCH_LEASE_MS / 1000 + 1)
    after_lease = post(acme, body, "batch-1", path="/v1/events/batch")

    assert while_leased.status_code == 503
    assert while_leased.json()["error"]["code"] == "service_unavailable"
    assert while_leased.json()["error"]["details"] == {"write": "unknown"}
    assert int(while_leased["Retry-After"]) == ingest.BATCH_LEASE_MS // 1000
    assert after_lease.status_code == 200
    assert len(stored_ids()) == 3
