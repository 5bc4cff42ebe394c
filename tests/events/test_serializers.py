"""What the input serializers refuse rather than guess at: unknown option fields, a list
filter given twice, a number where a string belongs and a string where a number belongs;
and what they keep exactly (spaces and NUL in an event_type filter). Each was found by the
fuzzer (tests/integration/test_fuzz.py) as a request the schema and the code disagreed on."""

import pytest


def post_json(client, path: str, body: str):
    return client.generic("POST", path, body, content_type="application/json")


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("/v1/events/claim", '{"limt": 1}', "limt"),
        ("/v1/events/{id}/release", '{"delay": 60}', "delay"),
        ("/v1/events/ack", '{"ids": ["{id}"], "id": "{id}"}', "id"),
    ],
    ids=["claim", "release", "ack-many"],
)
def test_an_unknown_field_in_an_options_body_is_400_naming_it_and_changes_nothing(
    acme, create_event, path, body, field
):
    event_id = create_event(acme)

    response = post_json(acme, path.format(id=event_id), body.replace("{id}", event_id))

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": f"Invalid request: {field}: Unknown field.",
        "details": {field: ["Unknown field."]},
    }
    event = acme.get(f"/v1/events/{event_id}").json()
    assert (event["status"], event["attempts"]) == ("undelivered", 0)


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("/v1/events/claim", '{"limit": "10"}', "limit"),
        ("/v1/events/claim", '{"lease_seconds": "30"}', "lease_seconds"),
        ("/v1/events/claim", '{"event_type": 5}', "event_type"),
        ("/v1/events/{id}/release", '{"delay_seconds": "0"}', "delay_seconds"),
        ("/v1/events/ack", '{"ids": [42]}', "ids"),
    ],
)
def test_a_value_of_the_wrong_json_type_in_an_options_body_is_400_not_converted(acme, create_event, path, body, field):
    event_id = create_event(acme)

    response = post_json(acme, path.format(id=event_id), body)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]
    event = acme.get(f"/v1/events/{event_id}").json()
    assert (event["status"], event["attempts"]) == ("undelivered", 0)


@pytest.mark.parametrize("name,values", [("status", ["undelivered", "failed"]), ("event_type", ["a", "b"])])
def test_a_list_filter_given_twice_is_400_naming_it(acme, create_event, name, values):
    create_event(acme, {"event_type": "a"})

    response = acme.get("/v1/events", {name: values})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {name: ["Give this parameter at most once."]}


@pytest.mark.parametrize("event_type", [" padded ", "nul\u0000inside", "   "])
def test_list_and_claim_filter_by_an_event_type_exactly_as_the_payload_has_it(acme, create_event, event_type):
    create_event(acme, {"event_type": event_type.replace("\u0000", "").strip() or "other"})
    exact = create_event(acme, {"event_type": event_type})

    listed = acme.get("/v1/events", {"event_type": event_type})
    claimed = acme.post("/v1/events/claim", {"event_type": event_type}, format="json")

    assert [event["id"] for event in listed.json()["events"]] == [exact]
    assert [event["id"] for event in claimed.json()["events"]] == [exact]


def test_an_id_that_is_no_events_is_not_found_whatever_it_holds(acme):
    ids = [" evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W", "nul\u0000", "x"]

    response = acme.post("/v1/events/ack", {"ids": ids}, format="json")

    assert (response.status_code, response.json()) == (200, {"acknowledged": [], "not_found": ids})
