"""Watching and breaking the store from a test, at botocore's level (below PynamoDB)."""

from collections import Counter
from contextlib import contextmanager

from botocore.awsrequest import AWSResponse

from triggerapi import store
from triggerapi.context import counting_apart
from triggerapi.tables import all_models


def _event_systems():
    return [store.client(model).meta.events for model in all_models()]


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
def store_calls(*, apart: bool = False):
    """Counts DynamoDB API calls by operation name: `calls.total()`, `calls["PutItem"]`. The
    calls made for the limits are counted apart (`triggerapi.context.counted_apart`): only
    those with `apart`, none without."""
    calls: Counter = Counter()

    def count(model, **kwargs):
        if counting_apart() == apart:
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


def create_events_table_without_its_stream() -> None:
    """The events table as it was before it had a stream: create_tables must enable it."""
    from events.models import Event

    view_type = Event.Meta.stream_view_type
    del Event.Meta.stream_view_type
    try:
        Event.create_table(wait=True)
    finally:
        Event.Meta.stream_view_type = view_type
