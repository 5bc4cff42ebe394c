"""With a warm key cache, each basic operation is exactly one DynamoDB call."""

import pytest

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
