"""Watching and breaking the store from a test, at botocore's level (below PynamoDB)."""

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.awsrequest import AWSResponse

from triggerapi import store
from triggerapi.context import is_limiter_call
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
    calls made for the limits (the rate limiter's, a waiting claim's place) are counted apart
    (`triggerapi.context.limiter_calls`): only those with `apart`, none without. They are not
    the operation's, and when the limiter's happen depends on the clock."""
    calls: Counter = Counter()

    def count(model, **kwargs):
        if is_limiter_call() == apart:
            calls[model.name] += 1

    with hooked("before-call.dynamodb", count):
        yield calls


@dataclass(frozen=True)
class Call:
    """One DynamoDB call as the store served it. `read`: how many items the store read for it
    (a Query's or Scan's ScannedCount, which counts what a filter then dropped; the items a
    GetItem or BatchGetItem returned); None for a write."""

    operation: str
    table: str | None
    index: str | None
    read: int | None


def _items_read(operation: str, parsed: dict) -> int | None:
    if operation in ("Query", "Scan"):
        return parsed.get("ScannedCount", 0)
    if operation == "GetItem":
        return int("Item" in parsed)
    if operation == "BatchGetItem":
        return sum(len(items) for items in parsed.get("Responses", {}).values())
    return None


@contextmanager
def store_reads():
    """Every DynamoDB call, in order, as a `Call`."""
    calls: list[Call] = []

    def before(model, params, context, **kwargs):
        tables = list(params.get("RequestItems", {})) or [params.get("TableName")]
        context["watched"] = (tables[0], params.get("IndexName"))

    def after(model, parsed, context, **kwargs):
        table, index = context.pop("watched", (None, None))
        calls.append(Call(model.name, table, index, _items_read(model.name, parsed)))

    with hooked("before-parameter-build.dynamodb", before), hooked("after-call.dynamodb", after):
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
