"""Writing many events: BatchWriteItem (25 per call) with backoff on unprocessed items, and
a 503 that says exactly which events are stored when the store gives up part way.

PynamoDB's `Model.batch_write` neither backs off on unprocessed items nor reports which
items were written before a failure, so this uses `triggerapi.writes.batch_put`."""

import random
import time

from events.models import Event
from events.services.common import in_parallel
from triggerapi import writes
from triggerapi.exceptions import NOT_APPLIED, PARTIAL, UNKNOWN, ServiceUnavailable
from triggerapi.store import ConditionFailed, StoreUnavailable

BATCH_WRITE_LIMIT = 25
UNPROCESSED_RETRIES = 5


def put_all(events: list[Event]) -> None:
    stored: list[str] = []
    try:
        for start in range(0, len(events), BATCH_WRITE_LIMIT):
            _put_chunk(events[start : start + BATCH_WRITE_LIMIT], stored)
    except StoreUnavailable as exc:
        raise _part_way(events, set(stored), maybe_applied=exc.maybe_applied) from exc


def _part_way(events: list[Event], stored: set[str], *, maybe_applied: bool) -> ServiceUnavailable:
    positions = [i for i, event in enumerate(events) if event.event_id in stored]
    write = PARTIAL if positions else UNKNOWN if maybe_applied else NOT_APPLIED
    return ServiceUnavailable(
        f"The store failed part way: {len(positions)} of {len(events)} events are stored (details.stored lists "
        "their positions); the others may or may not be. Retry with an Idempotency-Key to make retrying safe.",
        details={"write": write, "stored": positions},
    )


def _put_chunk(chunk: list[Event], stored: list[str]) -> None:
    """Appends to `stored` the ids the store confirmed, as it confirms them."""
    pending = {event.event_id: event.serialize() for event in chunk}
    for attempt in range(UNPROCESSED_RETRIES + 1):
        unprocessed = {item["sk"]["S"] for item in writes.batch_put(Event, list(pending.values()))}
        stored.extend(event_id for event_id in pending if event_id not in unprocessed)
        pending = {event_id: item for event_id, item in pending.items() if event_id in unprocessed}
        if not pending:
            return
        time.sleep(random.uniform(0, 0.05 * 2**attempt))
    # Unprocessed items were not written: the store is throttling.
    raise StoreUnavailable(None, maybe_applied=False)


def put_each_if_absent(events: list[Event]) -> None:
    """Conditional puts, for finishing a batch another request began: what it stored stays."""

    def put(event: Event) -> None:
        try:
            writes.put(event, condition=Event.event_id.does_not_exist(), token=writes.new_token())
        except ConditionFailed:
            pass

    in_parallel(put, events)
