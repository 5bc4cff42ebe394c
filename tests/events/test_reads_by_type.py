"""Reads filtered by event_type behind 10,000 events of other types (LIMITS.md, "Reads with
filters"): the type is a key condition, so a page, a claim or a replay reads the events of
its type and nothing else. Asserted on the store's own count of the items each call read
(ScannedCount counts what a filter expression drops: a filter over the tenant's events would
read the 10,000 here).

The 10,000 are written once for the module, straight to the table, older than anything a
test adds; each test uses its own types."""

import pytest
from moto import mock_aws

from events.ids import new_event_ids
from events.lifecycle import new_event
from events.models import Event
from tests.store_hooks import store_reads
from triggerapi import writes
from triggerapi.tables import tables_create

OTHERS = 10_000
EVENTS = "Test-Events"


@pytest.fixture(scope="module")
def crowd():
    """acme's 10,000 undelivered events: seven other types, and every eighth with none."""
    with mock_aws():
        tables_create()
        ids = new_event_ids(OTHERS)
        payloads = ({"event_type": f"other.{n % 7}", "n": n} if n % 8 else {"n": n} for n in range(OTHERS))
        items = [
            new_event("acme", event_id, payload).serialize() for event_id, payload in zip(ids, payloads, strict=False)
        ]
        for start in range(0, OTHERS, 25):
            assert writes.batch_put(Event, items[start : start + 25]) == []
        yield


@pytest.fixture
def warm(crowd, acme):
    acme.get("/v1/events?limit=1")
    return acme


def reads_of_events(calls) -> list[tuple]:
    """(operation, index, items read) of each call to the events table."""
    return [(call.operation, call.index, call.read) for call in calls if call.table == EVENTS]


def ingest(client, *payloads) -> list[str]:
    response = client.post("/v1/events/batch", {"events": list(payloads)}, format="json")
    assert response.status_code == 201, response.content
    return [receipt["id"] for receipt in response.json()["events"]]


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_a_page_filtered_by_type_is_exact_in_two_calls_that_read_only_its_type(warm, order):
    [match] = ingest(warm, {"event_type": f"rare.{order}"})

    with store_reads() as calls:
        response = warm.get(f"/v1/events?event_type=rare.{order}&order={order}&limit=100")

    page = response.json()
    assert (response.status_code, [e["id"] for e in page["events"]]) == (200, [match])
    assert (page["has_more"], page["next_cursor"]) == (False, None)
    assert reads_of_events(calls) == [("Query", "type-index", 1), ("BatchGetItem", None, 1)]


def test_a_page_filtered_by_type_and_status_reads_only_that_type_in_that_status(warm):
    acked, waiting = ingest(warm, {"event_type": "rare.status", "n": 1}, {"event_type": "rare.status", "n": 2})
    assert warm.post(f"/v1/events/{acked}/ack").status_code == 200

    pages = {}
    with store_reads() as calls:
        for status in ("undelivered", "delivered", "failed"):
            page = warm.get(f"/v1/events?event_type=rare.status&status={status}").json()
            pages[status] = ([e["id"] for e in page["events"]], page["has_more"])

    assert pages == {"undelivered": ([waiting], False), "delivered": ([acked], False), "failed": ([], False)}
    assert reads_of_events(calls) == [
        ("Query", "type-status-index", 1),
        ("BatchGetItem", None, 1),
        ("Query", "type-status-index", 1),
        ("BatchGetItem", None, 1),
        ("Query", "type-status-index", 0),
    ]


def test_a_full_page_reads_one_key_past_it_and_its_own_items_however_many_others_there_are(warm):
    many = ingest(warm, *({"event_type": "rare.many", "n": n} for n in range(100)))
    many += ingest(warm, *({"event_type": "rare.many", "n": n} for n in range(100, 150)))

    with store_reads() as first_calls:
        first = warm.get("/v1/events?event_type=rare.many&order=asc&limit=100").json()
    with store_reads() as last_calls:
        last = warm.get(f"/v1/events?event_type=rare.many&order=asc&limit=100&cursor={first['next_cursor']}").json()

    assert ([e["id"] for e in first["events"]], first["has_more"]) == (many[:100], True)
    assert ([e["id"] for e in last["events"]], last["has_more"], last["next_cursor"]) == (many[100:], False, None)
    assert reads_of_events(first_calls) == [("Query", "type-index", 101), ("BatchGetItem", None, 100)]
    assert reads_of_events(last_calls) == [("Query", "type-index", 50), ("BatchGetItem", None, 50)]


def test_a_typed_poll_finds_its_event_behind_newer_events_of_other_types(warm):
    [match] = ingest(warm, {"event_type": "rare.poll"})
    for start in range(0, 300, 100):
        ingest(warm, *({"event_type": "newer", "n": n} for n in range(start, start + 100)))

    page = warm.get("/v1/events?order=desc&limit=100&event_type=rare.poll").json()

    assert ([e["id"] for e in page["events"]], page["has_more"]) == ([match], False)


def test_a_typed_claim_takes_its_event_from_behind_the_others_in_one_read(warm):
    [match] = ingest(warm, {"event_type": "rare.claim"})

    with store_reads() as calls:
        response = warm.post("/v1/events/claim", {"event_type": "rare.claim", "limit": 10}, format="json")

    assert [e["id"] for e in response.json()["events"]] == [match]
    reads = reads_of_events(calls)
    first_write = next(n for n, call in enumerate(reads) if call[0] == "UpdateItem")
    assert reads[:first_write] == [("Query", "inbox-type-index", 1)]


def test_a_waiting_typed_claim_reads_nothing_of_the_others_while_it_waits(warm):
    with store_reads() as calls:
        response = warm.post("/v1/events/claim", {"event_type": "none-such", "wait_seconds": 1}, format="json")

    assert response.json() == {"events": []}
    reads = reads_of_events(calls)
    assert reads and all(read == ("Query", "inbox-type-index", 0) for read in reads)


def test_replay_by_type_reads_only_that_type(warm):
    [replayed] = ingest(warm, {"event_type": "rare.replay"})
    others = ingest(warm, *({"event_type": "done", "n": n} for n in range(99)))
    assert warm.post("/v1/events/ack", {"ids": [replayed, *others]}, format="json").status_code == 200

    with store_reads() as calls:
        response = warm.post(
            "/v1/events/replay", {"since": 0, "until": 2**41, "event_type": "rare.replay"}, format="json"
        )

    assert response.json() == {"replayed": 1, "next_cursor": None}
    queries = [call for call in reads_of_events(calls) if call[0] == "Query"]
    assert sorted(queries) == [("Query", "type-status-index", 0), ("Query", "type-status-index", 1)]
    assert warm.get(f"/v1/events/{replayed}").json()["status"] == "undelivered"
