"""Writing many events: BatchWriteItem (25 per call) with backoff on unprocessed items, and
a 503 that says exactly which events are stored when the store gives up part way."""

import random
import time

from pynamodb.exceptions import PutError

from events.models import Event
from events.services.common import in_parallel
from triggerapi.exceptions import ServiceUnavailable
from triggerapi.store import is_condition_failure, is_store_unavailable

BATCH_WRITE_LIMIT = 25
UNPROCESSED_RETRIES = 5


def put_all(events: list[Event]) -> None:
    stored: list[str] = []
    try:
        for start in range(0, len(events), BATCH_WRITE_LIMIT):
            _put_chunk(events[start : start + BATCH_WRITE_LIMIT])
            stored.extend(e.event_id for e in events[start : start + BATCH_WRITE_LIMIT])
    except Exception as exc:
        if not (isinstance(exc, ServiceUnavailable) or is_store_unavailable(exc)):
            raise
        stored_ids = set(stored)
        positions = [i for i, e in enumerate(events) if e.event_id in stored_ids]
        raise ServiceUnavailable(
            f"The store failed part way: {len(positions)} of {len(events)} events are stored "
            "(details.stored lists their positions); the others may not be. Retry with an "
            "Idempotency-Key to make retrying safe.",
            details={"stored": positions},
        ) from exc


def _put_chunk(chunk: list[Event]) -> None:
    connection = Event._get_connection()
    items = [event.serialize() for event in chunk]
    for attempt in range(UNPROCESSED_RETRIES + 1):
        response = connection.batch_write_item(put_items=items) or {}
        unprocessed = response.get("UnprocessedItems", {}).get(Event.Meta.table_name, [])
        if not unprocessed:
            return
        items = [entry["PutRequest"]["Item"] for entry in unprocessed]
        time.sleep(random.uniform(0, 0.05 * 2**attempt))
    raise ServiceUnavailable("The store is throttling batch writes.")


def put_each_if_absent(events: list[Event]) -> None:
    """Conditional puts, for finishing a batch another request began: what it stored stays."""

    def put(event: Event) -> None:
        try:
            event.save(condition=Event.event_id.does_not_exist())
        except PutError as exc:
            if not is_condition_failure(exc):
                raise

    in_parallel(put, events)
