"""`create_tables` on tables that predate an index: it adds each missing one with UpdateTable,
waits while DynamoDB builds it, and DynamoDB fills it from the items already there."""

import io
from datetime import UTC, datetime, timedelta

from django.core.management import call_command

from events.ids import new_event_ids
from hooks.lanes import READY_INDEX
from hooks.models import DELIVERY_STATUS_INDEX, FAILED, SUCCEEDED, Delivery
from hooks.selectors import deliveries_list
from triggerapi import tables
from triggerapi.tables import tables_create


def hooks_table_without_its_status_index() -> None:
    """The hooks table as it was before it had the delivery-status-index and the ready-index
    (PynamoDB knows only the due-index)."""
    Delivery.delete_table()
    Delivery.create_table(wait=True)


def created(*statuses: str) -> list[Delivery]:
    expires = datetime.now(UTC) + timedelta(days=1)
    deliveries = [
        Delivery(
            "dlv#acme#hook_1",
            event_id,
            tenant_id="acme",
            hook_id="hook_1",
            status=status,
            created_at=1,
            expires_at=expires,
        )
        for event_id, status in zip(new_event_ids(len(statuses)), statuses, strict=True)
    ]
    for delivery in deliveries:
        delivery.save()
    return deliveries


def added(states) -> dict[str, list[str]]:
    return {state.name: state.indexes_created for state in states if state.indexes_created}


def test_a_missing_index_is_added_and_holds_the_items_already_there():
    hooks_table_without_its_status_index()
    failed, _ = created(FAILED, SUCCEEDED)

    assert {name: sorted(indexes) for name, indexes in added(tables_create()).items()} == {
        "Test-Hooks": sorted([DELIVERY_STATUS_INDEX.name, READY_INDEX.name])
    }
    page = deliveries_list(tenant_id="acme", hook_id="hook_1", status=FAILED)
    assert [delivery.event_id for delivery in page.items] == [failed.event_id]
    assert added(tables_create()) == {}


def test_create_tables_names_the_indexes_it_added_to_a_table_that_existed():
    hooks_table_without_its_status_index()
    out = io.StringIO()

    call_command("create_tables", stdout=out)

    hooks_line = next(line for line in out.getvalue().splitlines() if line.startswith("Test-Hooks:"))
    assert hooks_line.startswith("Test-Hooks: already exists, TTL on expires_at, added delivery-status-index")


class TableBeingUpdated:
    """A client whose table is updating, then has an index being built, then is ready."""

    def __init__(self):
        building = [{"IndexName": "new", "IndexStatus": "CREATING"}]
        self.states = [
            {"TableStatus": "UPDATING"},
            {"TableStatus": "ACTIVE", "GlobalSecondaryIndexes": building},
            {"TableStatus": "ACTIVE", "GlobalSecondaryIndexes": [{"IndexName": "new", "IndexStatus": "ACTIVE"}]},
        ]
        self.asked = 0

    def describe_table(self, TableName):
        self.asked += 1
        return {"Table": self.states[self.asked - 1]}


def test_it_waits_until_the_table_and_every_index_are_active(monkeypatch):
    monkeypatch.setattr(tables, "POLL_SECONDS", 0)
    client = TableBeingUpdated()

    table = tables._settled(client, "Test-Hooks")

    assert (client.asked, table["GlobalSecondaryIndexes"][0]["IndexStatus"]) == (3, "ACTIVE")
