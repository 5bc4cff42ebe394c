"""A key repeated in one JSON object is refused (400 naming it and where it is), in every
JSON body the API parses, and nothing is stored or changed: json would keep the last value."""

import pytest

from events.models import Event


def post_raw(client, path: str, body: str):
    return client.generic("POST", path, body, content_type="application/json")


def refused(key_path: str, key: str) -> dict:
    problem = f'The key "{key}" appears more than once in this object.'
    return {
        "code": "validation_error",
        "message": f"Invalid request: {key_path}: {problem}",
        "details": {key_path: [problem]},
    }


def test_duplicate_key_in_an_event_payload_is_400_naming_it_and_nothing_is_stored(acme):
    response = post_raw(acme, "/v1/events", '{"email": "a@acme.com", "email": "b@acme.com"}')

    assert response.status_code == 400
    assert response.json()["error"] == refused("email", "email")
    assert list(Event.scan()) == []


def test_duplicate_key_in_a_batch_payload_is_400_naming_it(acme):
    body = '{"events": [{"n": 0}, {"n": 1}, {"n": 2, "email": "a", "email": "b"}]}'

    response = post_raw(acme, "/v1/events/batch", body)

    assert response.status_code == 400
    assert response.json()["error"] == refused("events[2].email", "email")
    assert list(Event.scan()) == []


def test_duplicate_key_deep_in_a_payload_is_named_by_its_path(acme):
    body = '{"order": {"lines": [{"sku": 1}, {"sku": 2, "qty": 1, "qty": 9}]}}'

    response = post_raw(acme, "/v1/events", body)

    assert response.status_code == 400
    assert response.json()["error"] == refused("order.lines[1].qty", "qty")


def test_a_repeated_key_that_is_not_a_plain_name_is_quoted_in_the_path(acme):
    response = post_raw(acme, "/v1/events", '{"my key": {"1": true, "1": false}}')

    assert response.status_code == 400
    assert response.json()["error"] == refused('["my key"]["1"]', "1")


def test_repeated_events_key_of_a_batch_body_is_400(acme):
    response = post_raw(acme, "/v1/events/batch", '{"events": [{"a": 1}], "events": [{"b": 2}]}')

    assert response.status_code == 400
    assert response.json()["error"] == refused("events", "events")
    assert list(Event.scan()) == []


@pytest.mark.parametrize(
    "path,body,key",
    [
        ("/v1/events/claim", '{"limit": 1, "limit": 100}', "limit"),
        ("/v1/events/{id}/release", '{"delay_seconds": 0, "delay_seconds": 60}', "delay_seconds"),
        ("/v1/events/ack", '{"ids": [], "ids": ["{id}"]}', "ids"),
    ],
    ids=["claim", "release", "ack-many"],
)
def test_duplicate_key_in_an_options_body_is_400_and_changes_nothing(acme, create_event, path, body, key):
    event_id = create_event(acme)

    response = post_raw(acme, path.format(id=event_id), body.replace("{id}", event_id))

    assert response.status_code == 400
    assert response.json()["error"] == refused(key, key)
    event = acme.get(f"/v1/events/{event_id}").json()
    assert (event["status"], event["attempts"]) == ("undelivered", 0)


def test_the_same_key_in_different_objects_is_not_a_repeat(acme):
    response = post_raw(acme, "/v1/events", '{"a": {"id": 1}, "b": {"id": 2}, "c": [{"id": 3}, {"id": 4}]}')

    assert response.status_code == 201
    payload = acme.get(f"/v1/events/{response.json()['id']}").json()["payload"]
    assert payload == {"a": {"id": 1}, "b": {"id": 2}, "c": [{"id": 3}, {"id": 4}]}
