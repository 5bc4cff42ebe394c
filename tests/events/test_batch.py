import json

import pytest

from events.models import Event
from tests import store_hooks
from tests.store_hooks import store_calls, store_failing


def post_batch(client, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.generic("POST", "/v1/events/batch", data, content_type="application/json", **headers)


def stored() -> list[Event]:
    return list(Event.query("acme"))


def test_batch_stores_every_event_and_answers_in_request_order(acme):
    payloads = [{"event_type": "n", "n": i} for i in range(100)]

    response = post_batch(acme, {"events": payloads})

    receipts = response.json()["events"]
    assert response.status_code == 201
    assert len(receipts) == 100 and all(set(r) == {"id", "created_at", "status"} for r in receipts)
    assert [r["id"] for r in receipts] == sorted(r["id"] for r in receipts)
    listed = acme.get("/v1/events?status=undelivered&limit=100").json()["events"]
    assert [e["payload"]["n"] for e in listed] == list(range(100))
    assert [e["id"] for e in listed] == [r["id"] for r in receipts]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"events": []}, "events"),
        ({"events": [{}] * 101}, "events"),
        ({}, "events"),
        ({"events": {"a": 1}}, "events"),
        ([{"a": 1}], "non_field_errors"),
    ],
    ids=["empty", "101", "missing", "not-a-list", "bare-array"],
)
def test_batch_of_wrong_size_or_shape_is_400_and_stores_nothing(acme, body, field):
    response = post_batch(acme, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert stored() == []


def test_one_bad_payload_rejects_the_batch_naming_its_index(acme):
    response = post_batch(acme, {"events": [{"ok": 1}, {"ok": 2}, ["not", "an", "object"], {"ok": 4}]})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "events": {"2": ["An event payload must be a JSON object, not an array."]}
    }
    assert stored() == []


def test_an_invalid_string_in_a_batch_names_its_index_in_the_message(acme):
    response = post_batch(acme, '{"events": [{"ok": 1}, {"s": "\\udc00"}]}')

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "Invalid request: events[1]: Strings must be valid Unicode (no unpaired surrogates).",
        "details": {"events": {"1": ["Strings must be valid Unicode (no unpaired surrogates)."]}},
    }
    assert stored() == []


def test_batch_over_1_mib_is_413_and_stores_nothing(acme):
    body = json.dumps({"events": [{"pad": "x" * 200_000} for _ in range(6)]})
    assert len(body) > 1024 * 1024

    response = post_batch(acme, body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert stored() == []


def test_batch_payload_over_256_kib_is_400_naming_its_index(acme):
    response = post_batch(acme, {"events": [{"a": 1}, {"pad": "x" * 262_144}]})

    assert response.status_code == 400
    assert "1" in response.json()["error"]["details"]["events"]
    assert stored() == []


def test_batch_of_100_is_at_most_4_write_calls(acme):
    acme.get("/v1/events?limit=1")

    with store_calls() as calls:
        assert post_batch(acme, {"events": [{"n": i} for i in range(100)]}).status_code == 201

    assert dict(calls) == {"BatchWriteItem": 4}


def test_unprocessed_items_are_written_again(acme, monkeypatch):
    acme.get("/v1/events?limit=1")
    answered = []

    def unprocessed_once(model, params, **kwargs):
        if model.name == "BatchWriteItem" and not answered:
            answered.append(True)
            return store_hooks.fake_response(200), {"UnprocessedItems": json.loads(params["body"])["RequestItems"]}
        return None

    with store_calls() as calls, store_hooks.hooked("before-call.dynamodb", unprocessed_once):
        response = post_batch(acme, {"events": [{"n": i} for i in range(3)]})

    assert response.status_code == 201
    assert calls["BatchWriteItem"] == 2
    assert len(stored()) == 3


def test_store_failing_part_way_is_503_naming_what_is_stored(acme):
    acme.get("/v1/events?limit=1")
    first_chunk_done = []

    def fail_after_first(model, **kwargs):
        if model.name == "BatchWriteItem":
            if first_chunk_done:
                return store_hooks.fake_response(400), {"Error": {"Code": "ThrottlingException", "Message": "test"}}
            first_chunk_done.append(True)
        return None

    with store_hooks.hooked("before-call.dynamodb", fail_after_first):
        response = post_batch(acme, {"events": [{"n": i} for i in range(60)]})

    error = response.json()["error"]
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert error["code"] == "service_unavailable"
    assert error["details"] == {"write": "partial", "stored": list(range(25))}
    assert len(stored()) == 25


def test_batch_needs_the_ingest_scope(client_for):
    response = post_batch(client_for("acme", scopes=("consume",)), {"events": [{"a": 1}]})

    assert response.status_code == 403


def test_batch_with_store_down_before_writing_is_503(acme):
    acme.get("/v1/events?limit=1")

    with store_failing("ServiceUnavailable"):
        response = post_batch(acme, {"events": [{"a": 1}]})

    assert response.status_code == 503
    # The store answered 503: the write may or may not have landed.
    assert response.json()["error"]["details"] == {"write": "unknown", "stored": []}
