"""triggerapi_client against the live server: every method, and the error envelope as the
exceptions it maps to."""

import threading
import time

import pytest

from triggerapi_client import (
    AuthenticationFailed,
    Client,
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)


@pytest.fixture
def client(live_url, new_key):
    tenant, key = new_key()
    with Client(live_url, key) as client:
        client.tenant = tenant
        yield client


def test_me_names_the_tenant(client):
    me = client.me()

    assert (me.tenant_id, me.scopes) == (client.tenant, ["consume", "hooks", "ingest"])
    assert me.key_prefix.startswith("tk_live_")


def test_create_get_list_and_iterate(client):
    receipt = client.create_event({"event_type": "a", "n": 1}, idempotency_key="k1")
    again = client.create_event({"event_type": "a", "n": 1}, idempotency_key="k1")
    batch = client.create_events([{"n": i} for i in range(60)]) + client.create_events([{"n": i} for i in range(60)])

    assert (receipt.replayed, again.replayed, again.id) == (False, True, receipt.id)
    assert client.get_event(receipt.id).payload == {"event_type": "a", "n": 1}
    page = client.list_events(event_type="a")
    assert [e.id for e in page.events] == [receipt.id] and page.has_more is False
    assert [e.id for e in client.events(order="asc", page_size=40)] == [receipt.id, *(r.id for r in batch)]


def test_claim_extend_release_ack_retry_delete_and_replay(client):
    first, second = client.create_events([{"n": 1}, {"n": 2}])
    claimed = client.claim(limit=2, lease_seconds=60)
    assert [e.id for e in claimed] == [first.id, second.id] and all(e.lease_id for e in claimed)

    extended = client.extend(first.id, lease_id=claimed[0].lease_id, lease_seconds=120)
    released = client.release(second.id, lease_id=claimed[1].lease_id)
    client.ack(first.id)
    acked = client.ack_many([second.id, "evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"])

    assert extended.lease_id == claimed[0].lease_id and released.lease_expires_at is None
    assert (acked.acknowledged, acked.not_found) == ([second.id], ["evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"])
    assert client.replay(since=0, until=int(time.time() * 1000) + 1) == 2
    client.delete(first.id)
    with pytest.raises(NotFound):
        client.get_event(first.id)


def test_a_waiting_claim_returns_what_arrives(client):
    result = {}
    waiter = threading.Thread(target=lambda: result.update(events=client.claim(wait_seconds=5)))
    waiter.start()
    time.sleep(0.5)  # the event arrives during the wait

    receipt = client.create_event({"n": 1})
    waiter.join()

    assert [e.id for e in result["events"]] == [receipt.id]


def test_errors_are_raised_as_the_envelope_names_them(client, live_url, new_key):
    receipt = client.create_event({"n": 1}, idempotency_key="k")
    client.ack(receipt.id)

    with pytest.raises(Conflict) as conflict:
        client.retry(receipt.id)
    with pytest.raises(ValidationFailed) as invalid:
        client.claim(limit=1000)
    with pytest.raises(IdempotencyKeyReused):
        client.create_event({"n": 2}, idempotency_key="k")
    with pytest.raises(AuthenticationFailed), Client(live_url, "tk_live_" + "x" * 43) as stranger:
        stranger.me()
    with pytest.raises(PermissionDenied), Client(live_url, new_key(scopes="ingest")[1]) as ingest_only:
        ingest_only.claim()

    assert (conflict.value.status, conflict.value.code) == (409, "conflict")
    assert "limit" in invalid.value.details and invalid.value.request_id
