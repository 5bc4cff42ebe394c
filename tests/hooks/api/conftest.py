import pytest
from django.core.cache import cache
from moto import mock_aws

from events.models import Event
from limits.buckets import BUCKETS
from triggerapi.tables import tables_create


@pytest.fixture(autouse=True)
def store():
    """The hooks' API and deliveries need the tables (tests/hooks skips them), and the rate
    limiter's view of its buckets goes with them."""
    cache.clear()
    BUCKETS.forget()
    with mock_aws():
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
