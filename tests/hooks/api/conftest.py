from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from moto import mock_aws

from devstack import moto_patches
from events import ids
from events.models import Event
from limits.buckets import BUCKETS
from tests.hooks.api.deliveries_stored import sender
from triggerapi.tables import tables_create


@pytest.fixture(autouse=True)
def store():
    """The hooks' API and deliveries need the tables (tests/hooks skips them), and the rate
    limiter's view of its buckets goes with them. moto runs as the local store runs it
    (devstack/moto_patches.py): a transaction copies the items it names, not whole tables,
    a copy that attempts recorded side by side, as they end, would change under it."""
    cache.clear()
    BUCKETS.forget()
    with mock_aws(), moto_patches.applied():
        tables_create()
        yield
    cache.clear()


@pytest.fixture
def stream_records():
    """Lambda-shaped stream records of these events, as they are stored now."""

    def records(tenant_id: str, *event_ids: str) -> dict:
        found = []
        for n, event_id in enumerate(event_ids):
            image = Event.get(tenant_id, event_id).serialize()
            found.append(
                {
                    "eventID": str(n),
                    "eventName": "INSERT",
                    "eventSource": "aws:dynamodb",
                    "dynamodb": {
                        "Keys": {"tenant_id": image["tenant_id"], "sk": image["sk"]},
                        "NewImage": image,
                        "SequenceNumber": str(100 + n),
                        "StreamViewType": "NEW_IMAGE",
                    },
                }
            )
        return {"Records": found}

    return records


@pytest.fixture
def clock(time_machine, monkeypatch):
    """A stopped clock at 2027-06-01 12:00 UTC, ids drawn afresh from it: tests move it."""
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to(datetime(2027, 6, 1, 12, 0, tzinfo=UTC), tick=False)
    return time_machine


@pytest.fixture
def fake(monkeypatch):
    """The webhook sender replaced by one that answers what the test sets."""
    return sender(monkeypatch)
