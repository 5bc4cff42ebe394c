"""Another tenant's event is indistinguishable from a missing one, and stays unchanged."""

import pytest

MISSING = "evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"


@pytest.fixture
def acme_event(acme, create_event) -> str:
    return create_event(acme, {"event_type": "secret.acme", "ssn": "123"})


def snapshot(client, event_id: str) -> dict:
    response = client.get(f"/v1/events/{event_id}")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/v1/events/{id}"),
        ("post", "/v1/events/{id}/ack"),
        ("delete", "/v1/events/{id}"),
        ("post", "/v1/events/{id}/release"),
        ("post", "/v1/events/{id}/retry"),
    ],
)
def test_other_tenants_event_is_404_exactly_like_a_missing_one_and_unchanged(acme, globex, acme_event, method, path):
    before = snapshot(acme, acme_event)

    foreign = getattr(globex, method)(path.format(id=acme_event))
    missing = getattr(globex, method)(path.format(id=MISSING))

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"] == {**missing.json()["error"], "message": f"Event {acme_event} not found."}
    assert snapshot(acme, acme_event) == before


def test_batch_ack_of_other_tenants_event_reports_not_found_and_changes_nothing(acme, globex, acme_event):
    before = snapshot(acme, acme_event)

    response = globex.post("/v1/events/ack", {"ids": [acme_event]}, format="json")

    assert response.json() == {"acknowledged": [], "not_found": [acme_event]}
    assert snapshot(acme, acme_event) == before


def test_list_shows_only_own_events(acme, globex, create_event, acme_event):
    globex_event = create_event(globex)

    for query in ("", "?status=undelivered", "?event_type=secret.acme"):
        listed = [e["id"] for e in globex.get(f"/v1/events{query}").json()["events"]]
        assert acme_event not in listed
    assert [e["id"] for e in globex.get("/v1/events").json()["events"]] == [globex_event]


def test_claim_hands_out_only_own_events(acme, globex, acme_event):
    before = snapshot(acme, acme_event)

    response = globex.post("/v1/events/claim", {"limit": 100}, format="json")

    assert response.json() == {"events": []}
    assert snapshot(acme, acme_event) == before


def test_cursor_of_another_tenant_is_400(acme, globex, create_event):
    for _ in range(3):
        create_event(acme)
    cursor = acme.get("/v1/events?limit=1").json()["next_cursor"]

    response = globex.get(f"/v1/events?limit=1&cursor={cursor}")

    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["details"]


def test_same_idempotency_key_in_two_tenants_makes_two_events(acme, globex):
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}

    a = acme.post("/v1/events", {"n": 1}, format="json", **headers)
    g = globex.post("/v1/events", {"n": 2}, format="json", **headers)

    assert (a.status_code, g.status_code) == (201, 201)
    assert a.json()["id"] != g.json()["id"]
