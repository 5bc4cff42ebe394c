"""GET /v1/events/{id}/history: the event's transitions from the stream, its webhook
attempts from the pipeline, merged oldest first."""

from hooks import handler
from tests.hooks.api.deliveries_stored import sender, subscribe


def history(client, event_id: str, **query) -> list[dict]:
    response = client.get(f"/v1/events/{event_id}/history", query)
    assert response.status_code == 200, response.content
    return response.json()["history"]


def whats(entries: list[dict]) -> list[str]:
    return [entry["what"] for entry in entries]


def test_history_tells_claim_extensions_release_ack_and_replay(acme, create_event, pump):
    event_id = create_event(acme)
    [leased] = acme.post("/v1/events/claim", {"limit": 1}, format="json").json()["events"]
    lease = {"lease_id": leased["lease_id"], "lease_seconds": 60}
    for _ in range(4):
        assert acme.post(f"/v1/events/{event_id}/extend", lease, format="json").status_code == 200
    assert (
        acme.post(f"/v1/events/{event_id}/release", {"lease_id": leased["lease_id"]}, format="json").status_code == 200
    )
    acme.post("/v1/events/claim", {"limit": 1}, format="json")
    assert acme.post(f"/v1/events/{event_id}/ack").status_code == 200
    assert (
        acme.post(
            "/v1/events/replay", {"since": 0, "until": 2**41, "statuses": ["delivered"]}, format="json"
        ).status_code
        == 200
    )
    pump()

    entries = history(acme, event_id)

    assert whats(entries) == ["ingested", "claimed", "extended", "extended", "released", "claimed", "acked", "replayed"]
    assert entries[1] == {"at": entries[1]["at"], "what": "claimed", "lease_id": leased["lease_id"], "attempt": 1}
    assert entries[5]["attempt"] == 2
    assert {entries[2]["lease_id"], entries[3]["lease_id"], entries[4]["lease_id"]} == {leased["lease_id"]}
    assert entries[2]["lease_expires_at"] < entries[3]["lease_expires_at"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)


def test_history_pages_with_a_cursor(acme, create_event, pump):
    event_id = create_event(acme)
    for _ in range(3):
        [leased] = acme.post("/v1/events/claim", {"limit": 1}, format="json").json()["events"]
        acme.post(f"/v1/events/{event_id}/release", {"lease_id": leased["lease_id"]}, format="json")
    pump()
    everything = history(acme, event_id)

    seen, cursor = [], None
    while True:
        page = acme.get(f"/v1/events/{event_id}/history", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["history"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]

    assert len(everything) == 7 and seen == everything


def test_a_webhook_attempts_are_in_the_events_history(acme, create_event, pump, monkeypatch):
    fake = sender(monkeypatch)
    hook_id = subscribe(fake, "acme")
    fake.answer = 500
    event_id = create_event(acme)
    pump()
    handler.run_due()

    [ingested, attempt] = history(acme, event_id)

    assert ingested["what"] == "ingested"
    assert attempt == {
        "at": attempt["at"],
        "what": "delivery_attempt",
        "hook_id": hook_id,
        "delivery_id": attempt["delivery_id"],
        "attempt": 1,
        "status_code": 500,
        "error": None,
        "duration_ms": 0,
    }


def test_a_deleted_events_history_is_404(acme, create_event, pump):
    event_id = create_event(acme)
    pump()
    assert acme.delete(f"/v1/events/{event_id}").status_code == 204

    response = acme.get(f"/v1/events/{event_id}/history")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_tenants_event_history_is_404(acme, globex, create_event, pump):
    event_id = create_event(globex)
    pump()

    assert acme.get(f"/v1/events/{event_id}/history").status_code == 404
