"""The HTTP side of leases, long polling's options, replay and the list's order."""

import pytest

from events import ids


@pytest.fixture(autouse=True)
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    return time_machine


def claim(client, **body):
    return client.post("/v1/events/claim", body, format="json")


def test_a_claim_answers_each_event_with_its_own_lease_id(acme, create_event):
    create_event(acme)
    create_event(acme)

    events = claim(acme, limit=2).json()["events"]

    assert len({event["lease_id"] for event in events}) == 2
    assert all(event["lease_id"] for event in events)
    assert "lease_id" not in acme.get(f"/v1/events/{events[0]['id']}").json()


def test_extend_answers_the_event_with_the_same_lease_id_and_a_later_end(acme, create_event, clock):
    event_id = create_event(acme)
    [leased] = claim(acme, lease_seconds=30).json()["events"]
    clock.shift(10)

    response = acme.post(f"/v1/events/{event_id}/extend", {"lease_id": leased["lease_id"]}, format="json")

    assert response.status_code == 200
    assert (response.json()["lease_id"], response.json()["lease_expires_at"]) == (
        leased["lease_id"],
        leased["lease_expires_at"] + 10_000,
    )


@pytest.mark.parametrize(
    "body,field",
    [({}, "lease_id"), ({"lease_id": "x", "lease_seconds": 43201}, "lease_seconds"), ({"lease_id": "x", "n": 1}, "n")],
    ids=["no-lease-id", "over-12h", "unknown-field"],
)
def test_extend_with_a_bad_body_is_400_naming_the_field(acme, create_event, body, field):
    event_id = create_event(acme)

    response = acme.post(f"/v1/events/{event_id}/extend", body, format="json")

    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_extend_and_release_of_a_stale_lease_are_409(acme, create_event, clock):
    event_id = create_event(acme)
    stale = claim(acme, lease_seconds=1).json()["events"][0]["lease_id"]
    clock.shift(2)
    claim(acme)

    extended = acme.post(f"/v1/events/{event_id}/extend", {"lease_id": stale}, format="json")
    released = acme.post(f"/v1/events/{event_id}/release", {"lease_id": stale}, format="json")

    assert (extended.status_code, released.status_code) == (409, 409)
    assert extended.json()["error"]["code"] == released.json()["error"]["code"] == "conflict"


def test_another_tenants_lease_is_404(acme, globex, create_event):
    event_id = create_event(acme)
    lease_id = claim(acme).json()["events"][0]["lease_id"]

    response = globex.post(f"/v1/events/{event_id}/extend", {"lease_id": lease_id}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize("wait", [-1, 21, 2.5, "5"])
def test_a_wait_out_of_range_or_not_an_integer_is_400(acme, wait):
    response = claim(acme, wait_seconds=wait)

    assert response.status_code == 400 and "wait_seconds" in response.json()["error"]["details"]


def test_the_list_order_overrides_the_default(acme, create_event):
    created = [create_event(acme, {"n": i}) for i in range(3)]

    ascending = acme.get("/v1/events?order=asc").json()["events"]
    descending = acme.get("/v1/events?status=undelivered&order=desc").json()["events"]

    assert [e["id"] for e in ascending] == created
    assert [e["id"] for e in descending] == created[::-1]
    assert acme.get("/v1/events?order=sideways").status_code == 400


def test_a_cursor_is_bound_to_its_order(acme, create_event):
    for i in range(3):
        create_event(acme, {"n": i})
    cursor = acme.get("/v1/events?order=asc&limit=1").json()["next_cursor"]

    response = acme.get(f"/v1/events?order=desc&limit=1&cursor={cursor}")

    assert response.status_code == 400 and "cursor" in response.json()["error"]["details"]


def test_replay_moves_delivered_events_back_and_answers_the_count(acme, create_event, clock):
    event_id = create_event(acme)
    acme.post(f"/v1/events/{event_id}/ack")
    clock.shift(1)

    response = acme.post("/v1/events/replay", {"since": 0, "until": 1795349101000}, format="json")

    assert (response.status_code, response.json()) == (200, {"replayed": 1, "next_cursor": None})
    assert acme.get(f"/v1/events/{event_id}").json()["status"] == "undelivered"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"until": 5}, "since"),
        ({"since": 5, "until": 4}, "until"),
        ({"since": 0, "until": 5, "statuses": []}, "statuses"),
        ({"since": 0, "until": 5, "statuses": ["undelivered"]}, "statuses"),
        ({"since": 0, "until": 5, "cursor": "forged"}, "cursor"),
        ({"since": 0, "until": 5, "limit": 3}, "limit"),
    ],
    ids=["no-since", "until-before-since", "no-statuses", "undelivered", "forged-cursor", "unknown-field"],
)
def test_replay_with_a_bad_body_is_400_naming_the_field(acme, body, field):
    response = acme.post("/v1/events/replay", body, format="json")

    assert response.status_code == 400 and field in response.json()["error"]["details"], response.json()
