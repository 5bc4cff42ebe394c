from events.models import Event
from triggerapi import store


def test_ack_marks_delivered_and_sets_delivered_at(acme, create_event):
    event_id = create_event(acme)

    response = acme.post(f"/v1/events/{event_id}/ack")

    assert response.status_code == 200
    assert response.json() == {"id": event_id, "status": "acknowledged"}
    event = acme.get(f"/v1/events/{event_id}").json()
    assert event["status"] == "delivered"
    assert isinstance(event["delivered_at"], int) and event["delivered_at"] >= event["created_at"]


def test_ack_again_is_200_and_keeps_the_first_delivery_time(acme, create_event):
    event_id = create_event(acme)
    acme.post(f"/v1/events/{event_id}/ack")
    first = acme.get(f"/v1/events/{event_id}").json()["delivered_at"]

    response = acme.post(f"/v1/events/{event_id}/ack")

    assert response.status_code == 200
    assert response.json() == {"id": event_id, "status": "acknowledged"}
    assert acme.get(f"/v1/events/{event_id}").json()["delivered_at"] == first


def test_ack_of_unknown_event_is_404(acme):
    response = acme.post("/v1/events/evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W/ack")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_ack_moves_the_event_from_the_undelivered_inbox_to_delivered(acme, create_event):
    event_id = create_event(acme)

    acme.post(f"/v1/events/{event_id}/ack")

    assert acme.get("/v1/events?status=undelivered").json()["events"] == []
    assert [e["id"] for e in acme.get("/v1/events?status=delivered").json()["events"]] == [event_id]


def test_ack_shortens_retention_to_the_delivered_period(acme, create_event, settings):
    settings.DELIVERED_RETENTION_DAYS = 7
    event_id = create_event(acme)

    acme.post(f"/v1/events/{event_id}/ack")

    event = Event.get("acme", event_id)
    assert int(event.expires_at.timestamp()) == (event.delivered_at + 7 * 86_400_000) // 1000


def test_delete_is_204_with_no_body_then_404(acme, create_event):
    event_id = create_event(acme)

    first = acme.delete(f"/v1/events/{event_id}")
    second = acme.delete(f"/v1/events/{event_id}")

    assert (first.status_code, first.content) == (204, b"")
    assert second.status_code == 404
    assert second.json()["error"]["code"] == "not_found"
    assert acme.get(f"/v1/events/{event_id}").status_code == 404


def test_delete_of_malformed_id_is_404(acme):
    assert acme.delete("/v1/events/not-an-id").status_code == 404


def test_batch_ack_acknowledges_known_ids_and_lists_the_rest_as_not_found(acme, create_event):
    ids = [create_event(acme) for _ in range(3)]
    acme.post(f"/v1/events/{ids[0]}/ack")

    response = acme.post("/v1/events/ack", {"ids": [*ids, "evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W", "junk"]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"acknowledged": ids, "not_found": ["evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W", "junk"]}


def test_batch_ack_needs_1_to_100_ids(acme):
    for ids in ([], ["evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"] * 101):
        response = acme.post("/v1/events/ack", {"ids": ids}, format="json")
        assert response.status_code == 400
        assert "ids" in response.json()["error"]["details"]


def test_create_tables_turns_on_ttl_for_events():
    client = store.client(Event)

    described = client.describe_time_to_live(TableName=Event.Meta.table_name)["TimeToLiveDescription"]

    assert (described["TimeToLiveStatus"], described["AttributeName"]) == ("ENABLED", "expires_at")
