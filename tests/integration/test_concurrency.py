"""Races over real HTTP: gunicorn (2 processes x 32 threads) in front of a moto server."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from devstack.processes import Api


def race(count: int, action):
    """Run `action(i)` on `count` threads released at the same moment; results in order."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return action(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_eight_workers_claiming_40_events_claim_each_exactly_once(live_url, new_key):
    _, key = new_key()
    created = Api(live_url, key).post("/v1/events/batch", json={"events": [{"n": i} for i in range(40)]})
    ids = [r["id"] for r in created.json()["events"]]

    def drain(_):
        api, mine = Api(live_url, key), []
        while events := api.post("/v1/events/claim", json={"limit": 3, "lease_seconds": 300}).json()["events"]:
            mine += [e["id"] for e in events]
        return mine

    claimed = [event_id for mine in race(8, drain) for event_id in mine]

    assert Counter(claimed) == Counter(ids), "an event was claimed twice or never"
    listed = Api(live_url, key).get("/v1/events", params={"status": "undelivered", "limit": 100}).json()["events"]
    assert {e["attempts"] for e in listed} == {1}


def test_twenty_concurrent_posts_with_one_idempotency_key_store_one_event(live_url, new_key):
    _, key = new_key()

    responses = race(
        20,
        lambda _: Api(live_url, key).post(
            "/v1/events", json={"event_type": "order.paid", "order": 42}, headers={"Idempotency-Key": "order-42"}
        ),
    )

    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in responses if r.status_code == 200)
    stored = Api(live_url, key).get("/v1/events").json()["events"]
    assert [e["id"] for e in stored] == [responses[0].json()["id"]]


def test_concurrent_batches_with_one_idempotency_key_store_one_batch(live_url, new_key):
    _, key = new_key()
    body = {"events": [{"n": i} for i in range(50)]}

    responses = race(
        6, lambda _: Api(live_url, key).post("/v1/events/batch", json=body, headers={"Idempotency-Key": "b"})
    )

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({tuple(e["id"] for e in r.json()["events"]) for r in responses}) == 1
    assert len(Api(live_url, key).get("/v1/events", params={"limit": 100}).json()["events"]) == 50


def test_ten_concurrent_acks_of_one_event_all_succeed_and_deliver_it_once(live_url, new_key):
    _, key = new_key()
    event_id = Api(live_url, key).post("/v1/events", json={"n": 1}).json()["id"]

    responses = race(10, lambda _: Api(live_url, key).post(f"/v1/events/{event_id}/ack"))

    assert [(r.status_code, r.json()) for r in responses] == [(200, {"id": event_id, "status": "acknowledged"})] * 10
    delivered = Api(live_url, key).get("/v1/events", params={"status": "delivered"}).json()["events"]
    assert [(e["id"], e["status"]) for e in delivered] == [(event_id, "delivered")]
    assert Api(live_url, key).post(f"/v1/events/{event_id}/ack").status_code == 200
    after = Api(live_url, key).get(f"/v1/events/{event_id}").json()
    assert after["delivered_at"] == delivered[0]["delivered_at"]


def test_batch_ack_reports_acknowledged_and_not_found(live_url, new_key):
    _, key = new_key()
    api = Api(live_url, key)
    ids = [
        r["id"] for r in api.post("/v1/events/batch", json={"events": [{"n": i} for i in range(5)]}).json()["events"]
    ]
    missing = "evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"
    api.post(f"/v1/events/{ids[0]}/ack")

    response = api.post("/v1/events/ack", json={"ids": [*ids, missing, ids[1]]})

    assert response.json() == {"acknowledged": ids, "not_found": [missing]}
    assert api.get("/v1/events", params={"status": "undelivered"}).json()["events"] == []
