"""Watching and breaking the store from a test, at botocore's level (below PynamoDB)."""

from collections import Counter
from contextlib import contextmanager

from botocore.awsrequest import AWSResponse

from browser.models import BrowserSession
from events.models import Event, IdempotencyRecord
from hooks.models import Delivery, Hook, HookCount, StreamCheckpoint
from tenants.models import ApiKey
from triggerapi import store

MODELS = (ApiKey, Event, IdempotencyRecord, BrowserSession, Hook, HookCount, Delivery, StreamCheckpoint)


def _event_systems():
    return [store.client(model).meta.events for model in MODELS]


def fake_response(status: int) -> AWSResponse:
    return AWSResponse("http://store", status, {}, None)


@contextmanager
def hooked(event_name: str, handler):
    """Register a botocore handler on every model's client; a `before-call` handler that
    returns (response, parsed) answers the call instead of the store."""
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

    with hooked("before-call.dynamodb", count):
        yield calls


@contextmanager
def store_failing(code: str = "ProvisionedThroughputExceededException", operations: set[str] | None = None):
    """Every matching call answers with a DynamoDB error `code` (throttling by default)."""

    def fail(model, **kwargs):
        if operations is None or model.name in operations:
            return fake_response(400), {"Error": {"Code": code, "Message": "injected by the test"}}
        return None

    with hooked("before-call.dynamodb", fail):
        yield
