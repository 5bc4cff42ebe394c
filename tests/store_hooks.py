"""Watching and breaking the store from a test, at botocore's level (below PynamoDB)."""

from collections import Counter
from contextlib import contextmanager

from botocore.awsrequest import AWSResponse

from events.models import Event, IdempotencyRecord
from tenants.models import ApiKey

MODELS = (ApiKey, Event, IdempotencyRecord)


def _event_systems():
    return [model._get_connection().connection.client.meta.events for model in MODELS]


@contextmanager
def _hooked(event_name: str, handler):
    systems = _event_systems()
    for events in systems:
        events.register(event_name, handler)
    try:
        yield
    finally:
        for events in systems:
            events.unregister(event_name, handler)


@contextmanager
def store_calls():
    """Counts DynamoDB API calls by operation name: `calls.total()`, `calls["PutItem"]`."""
    calls: Counter = Counter()

    def count(model, **kwargs):
        calls[model.name] += 1

    with _hooked("before-call.dynamodb", count):
        yield calls


@contextmanager
def store_failing(code: str = "ProvisionedThroughputExceededException", operations: set[str] | None = None):
    """Every matching call answers with a DynamoDB error `code` (throttling by default)."""

    def fail(model, **kwargs):
        if operations is None or model.name in operations:
            response = AWSResponse("http://store", 400, {}, None)
            return response, {"Error": {"Code": code, "Message": "injected by the test"}}
        return None

    with _hooked("before-call.dynamodb", fail):
        yield
