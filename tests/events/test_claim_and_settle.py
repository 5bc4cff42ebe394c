"""Claim with a lease, ack, release, attempts → failed → retry. The clock is moved, not slept."""

import pytest

from events import ids
from events.models import Event
from tests.store_hooks import store_calls


@pytest.fixture
def clock(time_machine, monkeypatch):
    """A stopped clock at a known time. Ids are monotonic within a process, so an earlier
    test's later clock must not carry over: the sequence starts afresh."""
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    return time_machine


def claim(client, **body) -> list[dict]:
    response = client.post("/v1/events/claim", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["events"]


def claim_ids(client, **body) -> list[str]:
    return [event["id"] for event in claim(client, **body)]


def test_claim_leases_oldest_first_and_counts_the_attempt(acme, create_event, clock):
    ids = [create_event(acme) for _ in range(3)]

    events = claim(acme, limit=2, lease_seconds=60)

    assert [e["id"] for e in events] == ids[:2]
    now = 1795348800000
    assert [(e["attempts"], e["lease_expires_at"], e["status"]) for e in events] == [
        (1, now + 60_000, "undelivered")
    ] * 2


def test_claim_with_no_body_uses_the_defaults(acme, create_event, clock):
    ids = [create_event(acme) for _ in range(12)]

    response = acme.post("/v1/events/claim")

    events = response.json()["events"]
    assert [e["id"] for e in events] == ids[:10]
    assert {e["lease_expires_at"] for e in events} == {1795348800000 + 30_000}


def test_leased_event_is_not_claimed_again_until_its_lease_ends(acme, create_event, clock):
    event_id = create_event(acme)
    claim(acme, lease_seconds=30)

    assert claim_ids(acme) == []
    clock.shift(29)
    assert claim_ids(acme) == []
    clock.shift(1.001)
    events = claim(acme)
    assert [(e["id"], e["attempts"]) for e in events] == [(event_id, 2)]


def test_claim_filters_by_event_type(acme, create_event, clock):
    create_event(acme, {"event_type": "a"})
    b = create_event(acme, {"event_type": "b"})

    assert claim_ids(acme, event_type="b") == [b]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"lease_seconds": 0}, "lease_seconds"),
        ({"lease_seconds": 43201}, "lease_seconds"),
        ({"limit": "many"}, "limit"),
        ({"limit": True}, "limit"),
    ],
)
def test_claim_options_out_of_range_are_400(acme, body, field):
    response = acme.post("/v1/events/claim", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


@pytest.mark.parametrize("lease_ended", [False, True], ids=["during-lease", "after-lease"])
def test_ack_works_during_or_after_the_lease(acme, create_event, clock, lease_ended):
    event_id = create_event(acme)
    claim(acme, lease_seconds=10)
    if lease_ended:
        clock.shift(60)

    assert acme.post(f"/v1/events/{event_id}/ack").status_code == 200
    event = acme.get(f"/v1/events/{event_id}").json()
    assert (event["status"], event["lease_expires_at"]) == ("delivered", None)
    assert claim_ids(acme) == []


def test_release_makes_the_event_claimable_at_once(acme, create_event, clock):
    event_id = create_event(acme)
    claim(acme, lease_seconds=300)

    released = acme.post(f"/v1/events/{event_id}/release")

    assert released.status_code == 200
    assert (released.json()["id"], released.json()["lease_expires_at"]) == (event_id, None)
    assert claim_ids(acme) == [event_id]


def test_release_with_delay_hides_the_event_until_the_delay_has_passed(acme, create_event, clock):
    event_id = create_event(acme)
    claim(acme)

    acme.post(f"/v1/events/{event_id}/release", {"delay_seconds": 120}, format="json")

    clock.shift(119)
    assert claim_ids(acme) == []
    clock.shift(1)
    assert claim_ids(acme) == [event_id]


@pytest.mark.parametrize("delay", [-1, 43201, "soon"])
def test_release_delay_out_of_range_is_400(acme, create_event, delay):
    event_id = create_event(acme)

    response = acme.post(f"/v1/events/{event_id}/release", {"delay_seconds": delay}, format="json")

    assert response.status_code == 400
    assert "delay_seconds" in response.json()["error"]["details"]


def test_release_of_a_delivered_event_is_409(acme, create_event):
    event_id = create_event(acme)
    acme.post(f"/v1/events/{event_id}/ack")

    response = acme.post(f"/v1/events/{event_id}/release")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def exhaust(client, event_id: str, clock, attempts: int) -> None:
    for _ in range(attempts):
        assert claim_ids(client, lease_seconds=1) == [event_id]
        clock.shift(2)


def test_event_claimed_max_attempts_times_becomes_failed_instead_of_being_handed_out(
    acme, create_event, clock, settings
):
    settings.MAX_ATTEMPTS = 3
    event_id = create_event(acme)
    exhaust(acme, event_id, clock, 3)

    assert claim_ids(acme) == []

    event = acme.get(f"/v1/events/{event_id}").json()
    assert (event["status"], event["attempts"], event["lease_expires_at"]) == ("failed", 3, None)
    assert [e["id"] for e in acme.get("/v1/events?status=failed").json()["events"]] == [event_id]
    assert acme.get("/v1/events?status=undelivered").json()["events"] == []


@pytest.fixture
def failed_event(acme, create_event, clock, settings) -> str:
    """An event that used up its one attempt and was turned `failed` by the next claim."""
    settings.MAX_ATTEMPTS = 1
    event_id = create_event(acme)
    exhaust(acme, event_id, clock, 1)
    claim(acme)
    return event_id


def test_retry_puts_a_failed_event_back_with_attempts_reset(acme, failed_event):
    event_id = failed_event

    retried = acme.post(f"/v1/events/{event_id}/retry")

    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("undelivered", 0)
    assert [(e["id"], e["attempts"]) for e in claim(acme)] == [(event_id, 1)]


@pytest.mark.parametrize("state", ["undelivered", "delivered"])
def test_retry_of_an_event_that_is_not_failed_is_409(acme, create_event, state):
    event_id = create_event(acme)
    if state == "delivered":
        acme.post(f"/v1/events/{event_id}/ack")

    response = acme.post(f"/v1/events/{event_id}/retry")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": f"Event {event_id} is {state}; only failed events can be retried.",
        "details": {},
    }


def test_release_of_a_failed_event_is_409(acme, failed_event):
    assert acme.post(f"/v1/events/{failed_event}/release").status_code == 409


def test_ack_of_a_failed_event_delivers_it(acme, failed_event):
    assert acme.post(f"/v1/events/{failed_event}/ack").status_code == 200
    assert acme.get(f"/v1/events/{failed_event}").json()["status"] == "delivered"


def test_expired_event_is_never_claimed(acme, create_event):
    event_id = create_event(acme)
    event = Event.get("acme", event_id)
    event.update(actions=[Event.expires_at.set(event.expires_at.replace(year=2000))])

    assert claim_ids(acme) == []


def test_claim_of_n_is_one_query_and_n_conditional_writes(acme, create_event):
    for _ in range(15):
        create_event(acme)
    acme.get("/v1/events?limit=1")

    with store_calls() as calls:
        assert len(claim_ids(acme, limit=10)) == 10

    assert dict(calls) == {"Query": 1, "UpdateItem": 10}


@pytest.mark.parametrize("path", ["/v1/events/claim", "/v1/events/{id}/release"])
@pytest.mark.parametrize("body", ["[]", '"x"', "0", "null"])
def test_an_options_body_that_is_not_an_object_is_400_not_the_defaults(acme, create_event, path, body):
    event_id = create_event(acme)

    response = acme.generic("POST", path.format(id=event_id), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert acme.get(f"/v1/events/{event_id}").json()["attempts"] == 0
