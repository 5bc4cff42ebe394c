"""The foundation over real HTTP: gunicorn serving the app, a moto server behind it."""

import random
import threading

import requests

from devstack.processes import Api


def test_health_and_readiness(live_url):
    assert requests.get(f"{live_url}/health", timeout=10).json() == {"status": "healthy"}
    assert requests.get(f"{live_url}/health/ready", timeout=10).json() == {"status": "ready"}


def test_full_lifecycle_create_list_get_ack_list_delete(api_for):
    api = api_for()

    created = api.post("/v1/events", json={"event_type": "customer.created", "email": "alice@acme.com"})
    event_id = created.json()["id"]
    undelivered = api.get("/v1/events", params={"status": "undelivered"}).json()
    fetched = api.get(f"/v1/events/{event_id}")
    acked = api.post(f"/v1/events/{event_id}/ack")
    delivered = api.get("/v1/events", params={"status": "delivered"}).json()
    deleted = api.delete(f"/v1/events/{event_id}")
    gone = api.get(f"/v1/events/{event_id}")

    assert created.status_code == 201 and created.headers["Location"].endswith(f"/v1/events/{event_id}")
    assert [e["id"] for e in undelivered["events"]] == [event_id]
    assert fetched.status_code == 200
    assert fetched.json()["payload"] == {"event_type": "customer.created", "email": "alice@acme.com"}
    assert (acked.status_code, acked.json()) == (200, {"id": event_id, "status": "acknowledged"})
    assert [(e["id"], e["status"]) for e in delivered["events"]] == [(event_id, "delivered")]
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert "X-Request-ID" in gone.headers


def test_unknown_key_is_401(live_url):
    response = requests.get(
        f"{live_url}/v1/events", headers={"Authorization": "Bearer tk_live_" + "x" * 43}, timeout=10
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "authentication_failed"


def test_other_tenants_event_is_404_and_unchanged(api_for):
    owner, stranger = api_for(), api_for()
    event_id = owner.post("/v1/events", json={"secret": 1}).json()["id"]

    responses = [
        stranger.get(f"/v1/events/{event_id}"),
        stranger.post(f"/v1/events/{event_id}/ack"),
        stranger.delete(f"/v1/events/{event_id}"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert owner.get(f"/v1/events/{event_id}").json()["status"] == "undelivered"


def walk(api, params: dict) -> list[str]:
    seen, cursor = [], None
    while True:
        body = api.get("/v1/events", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += [e["id"] for e in body["events"]]
        if not body["has_more"]:
            return seen
        cursor = body["next_cursor"]


def test_cursor_walk_over_25_events_while_more_arrive_skips_and_repeats_nothing(live_url, new_key):
    _, key = new_key()
    api, writer = Api(live_url, key), Api(live_url, key)
    original = [api.post("/v1/events", json={"n": i}).json()["id"] for i in range(25)]
    arrived: list[str] = []

    def insert_more():
        for i in range(15):
            arrived.append(writer.post("/v1/events", json={"late": i}).json()["id"])

    inserter = threading.Thread(target=insert_more)
    inserter.start()
    oldest_first = walk(api, {"status": "undelivered", "limit": 4})
    newest_first = walk(api, {"limit": 4})
    inserter.join()

    for seen in (oldest_first, newest_first):
        assert len(seen) == len(set(seen)), "an event was repeated"
        assert set(original) <= set(seen), "an event was skipped"
        assert set(seen) <= set(original) | set(arrived)
    assert oldest_first[:25] == original


def test_a_list_filtered_by_the_longest_event_type_walks_every_page(api_for):
    """255 characters outside the BMP: 3 KB of URL percent-encoded, and its cursor about
    1.7 KB more, past gunicorn's default request line (found by the fuzzer)."""
    api = api_for()
    draw = random.Random(255).randint
    event_type = "".join(chr(draw(0x10000, 0x10FFFF)) for _ in range(255))
    ids = [api.post("/v1/events", json={"event_type": event_type}).json()["id"] for _ in range(3)]

    seen, cursor = [], None
    for _ in ids:
        page = api.get("/v1/events", params={"event_type": event_type, "limit": 1, "cursor": cursor})
        assert page.status_code == 200, page.text
        seen += [event["id"] for event in page.json()["events"]]
        cursor = page.json()["next_cursor"]

    assert (seen, cursor) == (ids[::-1], None)
