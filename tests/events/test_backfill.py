"""`index_event_types`: events stored before the indexes by type existed (no type_key) are
put in them, once, without touching what changed meanwhile."""

import io

from django.core.management import call_command

from events.models import Event
from events.services import backfill, event_create_batch, event_delete
from events.services.backfill import Indexed, events_index_types
from triggerapi import store

TENANT = "acme"


def stored_before_the_indexes(*payloads) -> list[str]:
    """Events as the code before the indexes by type wrote them: without a type_key."""
    ids = [receipt["id"] for receipt in event_create_batch(tenant_id=TENANT, payloads=list(payloads)).receipts]
    client = store.client(Event)
    for event_id in ids:
        client.update_item(
            TableName=Event.Meta.table_name,
            Key={"tenant_id": {"S": TENANT}, "sk": {"S": event_id}},
            UpdateExpression="REMOVE type_key",
        )
    return ids


def listed(client, event_type: str) -> list[str]:
    return [event["id"] for event in client.get(f"/v1/events?event_type={event_type}").json()["events"]]


def test_old_typed_events_are_listed_and_claimed_by_type_once_indexed(acme):
    first, second, untyped, too_long = stored_before_the_indexes(
        {"event_type": "old"}, {"event_type": "old"}, {"n": 1}, {"event_type": "x" * 256}
    )
    assert listed(acme, "old") == []

    out = io.StringIO()
    call_command("index_event_types", stdout=out)

    assert out.getvalue().splitlines()[-1] == (
        "Done. 3 found, 2 indexed, 1 with a type too long to index, 0 changed meanwhile"
    )
    assert listed(acme, "old") == [second, first]
    claimed = acme.post("/v1/events/claim", {"event_type": "old", "limit": 1}, format="json").json()["events"]
    assert [event["id"] for event in claimed] == [first]
    assert events_index_types() == Indexed(scanned=1, too_long=1)


def test_an_event_deleted_or_indexed_after_the_scan_read_it_is_left_as_it_is(monkeypatch):
    deleted, indexed = stored_before_the_indexes({"event_type": "old"}, {"event_type": "old"})
    scan = backfill._unindexed

    def changed_meanwhile(start):
        page = scan(start)
        event_delete(tenant_id=TENANT, event_id=deleted)
        store.client(Event).update_item(
            TableName=Event.Meta.table_name,
            Key={"tenant_id": {"S": TENANT}, "sk": {"S": indexed}},
            UpdateExpression="SET type_key = :k",
            ExpressionAttributeValues={":k": {"S": "acme#old"}},
        )
        return page

    monkeypatch.setattr(backfill, "_unindexed", changed_meanwhile)

    assert events_index_types() == Indexed(scanned=2, changed=2)
    assert Event.get(TENANT, deleted).type_key is None
