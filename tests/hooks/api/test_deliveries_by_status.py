"""A hook's deliveries listed by status behind 1,000 in another status: the status is a key
condition (the delivery-status-index), so a page reads one key past it and its own items."""

from datetime import UTC, datetime, timedelta

import pytest

from events.ids import new_event_ids
from hooks.ids import delivery_id_for
from hooks.models import FAILED, SUCCEEDED, Delivery
from tests.store_hooks import store_reads
from triggerapi import writes
from triggerapi.store import now_ms

OTHERS = 1000


@pytest.fixture
def hook(acme, local_targets):
    response = acme.post("/v1/hooks", {"target_url": "http://127.0.0.1:9/in"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def delivered(hook_id: str, *statuses: str) -> list[str]:
    """Deliveries of new events to the hook, in these statuses, written straight to the table."""
    now, expires = now_ms(), datetime.now(UTC) + timedelta(days=1)
    pk = Delivery.pk_for("acme", hook_id)
    event_ids = new_event_ids(len(statuses))
    items = [
        Delivery(
            pk, event_id, tenant_id="acme", hook_id=hook_id, status=status, created_at=now, expires_at=expires
        ).serialize()
        for event_id, status in zip(event_ids, statuses, strict=True)
    ]
    for start in range(0, len(items), 25):
        assert writes.batch_put(Delivery, items[start : start + 25]) == []
    return [delivery_id_for(hook_id, event_id) for event_id in event_ids]


def test_a_page_of_failed_deliveries_behind_many_succeeded_reads_only_the_failed(acme, hook):
    [failed] = delivered(hook, FAILED)
    delivered(hook, *[SUCCEEDED] * OTHERS)

    with store_reads() as calls:
        response = acme.get(f"/v1/hooks/{hook}/deliveries?status=failed&limit=100")

    page = response.json()
    assert ([d["id"] for d in page["deliveries"]], page["has_more"], page["next_cursor"]) == ([failed], False, None)
    reads = [(call.operation, call.index, call.read) for call in calls if call.table == "Test-Hooks"]
    assert reads[-2:] == [("Query", "delivery-status-index", 1), ("BatchGetItem", None, 1)]
    assert all(read[0] == "GetItem" for read in reads[:-2])  # the hook itself


def test_pages_by_status_walk_every_delivery_in_that_status_newest_first(acme, hook):
    failed = delivered(hook, *[FAILED, SUCCEEDED] * 5)[::2]

    seen, cursor = [], None
    while True:
        query = {"status": "failed", "limit": 2, **({"cursor": cursor} if cursor else {})}
        with store_reads() as calls:
            page = acme.get(f"/v1/hooks/{hook}/deliveries", query).json()
        assert [call.operation for call in calls if call.table == "Test-Hooks"][-2:] == ["Query", "BatchGetItem"]
        seen += [d["id"] for d in page["deliveries"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]

    assert seen == failed[::-1]
    assert len(page["deliveries"]) == 1
