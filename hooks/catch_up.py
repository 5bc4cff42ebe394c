"""Hands the events created in a time range to the stream function again, as the stream
would have: for the events a stream switch leaves on neither stream (the view type of a
stream cannot change in place: it is disabled, then enabled anew, with a new ARN; docs/
DEPLOY.md). Safe to run over events the stream did hand over: a delivery already made is
recognised, and so is an event's `ingested` history entry, which is what counts it."""

from collections.abc import Callable

from events.ids import id_range
from events.models import Event
from hooks import handler
from triggerapi import store

SCAN_PAGE = 100


def events_hand_over(
    *, since_ms: int, until_ms: int, progress: Callable[[int], None] = lambda handed: None
) -> tuple[int, int]:
    """(events handed over, of which some record is to be handed over again: the store
    failed; run again)."""
    bounds = id_range(since_ms, until_ms)
    if bounds is None:
        return 0, 0
    handed = failed = 0
    start = None
    while True:
        page, start = store.call(lambda start=start: _created(bounds, start), what="Scan events in a range")
        if page:
            records = [_insert(event, n) for n, event in enumerate(page)]
            failed += len(handler.handle_stream({"Records": records})["batchItemFailures"])
            handed += len(page)
            progress(handed)
        if start is None:
            return handed, failed


def _created(bounds: tuple[str, str], start: dict | None) -> tuple[list[Event], dict | None]:
    """One Scan call: the live events (not deleted, not expired) created in the range."""
    results = Event.scan(Event.event_id.between(*bounds), last_evaluated_key=start, page_size=SCAN_PAGE)
    page = next(results.page_iter)
    events = [Event.from_raw_data(raw) for raw in page.get("Items", [])]
    return [event for event in events if event.is_live()], results.page_iter.last_evaluated_key


def _insert(event: Event, n: int) -> dict:
    image = event.serialize()
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"tenant_id": image["tenant_id"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": str(n),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
