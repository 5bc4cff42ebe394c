"""Delivery ids: unique across hooks (two hooks' deliveries of one event have two ids), each
found only under its own hook, one delivery read by its id, and the ids made before the
hook's tag still naming their delivery under their hook."""

import pytest

from hooks.ids import delivery_id_for, event_id_of, hook_tag, new_hook_id
from tests.hooks.api.test_deliveries import deliveries, ingest, subscribe


def test_two_hooks_deliveries_of_one_event_have_two_ids_each_found_only_under_its_hook(acme, receiver, stream_records):
    first, second = subscribe(acme, receiver), subscribe(acme, receiver)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})

    [one] = deliveries(acme, first["id"])
    [other] = deliveries(acme, second["id"])

    assert one["event_id"] == other["event_id"] == event_id and one["id"] != other["id"]
    assert acme.get(f"/v1/hooks/{first['id']}/deliveries/{one['id']}").json() == one
    assert acme.get(f"/v1/hooks/{second['id']}/deliveries/{other['id']}").json() == other
    for hook, delivery in ((first, other), (second, one)):
        response = acme.get(f"/v1/hooks/{hook['id']}/deliveries/{delivery['id']}")
        assert (response.status_code, response.json()["error"]) == (
            404,
            {"code": "not_found", "message": f"Delivery {delivery['id']} not found.", "details": {}},
        )


def test_one_delivery_is_answered_whole_under_its_hook(acme, receiver, stream_records):
    hook = subscribe(acme, receiver)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})

    response = acme.get(f"/v1/hooks/{hook['id']}/deliveries/{delivery_id_for(hook['id'], event_id)}")

    assert response.status_code == 200
    assert response.json() == deliveries(acme, hook["id"])[0]
    assert response.json() | {"created_at": 0, "succeeded_at": 0} == {
        "id": delivery_id_for(hook["id"], event_id),
        "hook_id": hook["id"],
        "event_id": event_id,
        "status": "succeeded",
        "attempts": 1,
        "next_attempt_at": None,
        "last_status_code": 200,
        "last_error": None,
        "created_at": 0,
        "succeeded_at": 0,
    }


def test_another_tenants_delivery_is_404_under_its_own_hooks_url(acme, globex, receiver, stream_records):
    hook = subscribe(acme, receiver)
    ingest(acme, "acme", stream_records, {"n": 1})
    [delivery] = deliveries(acme, hook["id"])

    response = globex.get(f"/v1/hooks/{hook['id']}/deliveries/{delivery['id']}")

    assert (response.status_code, response.json()["error"]["message"]) == (404, f"Hook {hook['id']} not found.")


@pytest.mark.parametrize(
    "malformed",
    [
        "nonsense",
        "dlv_",
        "dlv_01J00000000000000000000000",
        "dlv_01j00000000000000000000000ABCDEFGH",
        "evt_01J00000000000000000000000",
        "dlv_01J00000000000000000000000ABCDEFG",
        "dlv_01J00000000000000000000000" + "A" * 300,
    ],
)
def test_a_malformed_or_unknown_delivery_id_is_404(acme, receiver, malformed):
    hook = subscribe(acme, receiver)

    response = acme.get(f"/v1/hooks/{hook['id']}/deliveries/{malformed}")

    assert (response.status_code, response.json()["error"]) == (
        404,
        {"code": "not_found", "message": f"Delivery {malformed[:64]} not found.", "details": {}},
    )


def test_an_id_made_before_the_tag_still_names_its_delivery_under_its_hook(acme, receiver, stream_records):
    hook = subscribe(acme, receiver)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})

    response = acme.get(f"/v1/hooks/{hook['id']}/deliveries/dlv_{event_id[4:]}")

    assert response.status_code == 200
    assert response.json() == deliveries(acme, hook["id"])[0]


def test_a_tag_is_8_base32_characters_the_same_for_a_hook_every_time():
    hooks = [new_hook_id() for _ in range(1000)]
    tags = [hook_tag(hook) for hook in hooks]

    assert len(set(tags)) == 1000 and tags == [hook_tag(hook) for hook in hooks]
    assert all(len(tag) == 8 and set(tag) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for tag in tags)
    event_id = "evt_01JD7Z8X4Q2N3M5P6R7S8T9V00"
    assert event_id_of(delivery_id_for(hooks[0], event_id), hook_id=hooks[0]) == event_id
    assert event_id_of(delivery_id_for(hooks[0], event_id), hook_id=hooks[1]) is None
