"""Reads. Expired events (past their TTL, not yet deleted by DynamoDB) are never returned."""

from dataclasses import dataclass
from datetime import UTC, datetime

from events.cursors import cursor_decode, cursor_encode
from events.ids import EVENT_PREFIX, is_event_id
from events.models import Event
from triggerapi import store


@dataclass
class EventPage:
    events: list[Event]
    next_cursor: str | None
    has_more: bool


def event_get(*, tenant_id: str, event_id: str) -> Event | None:
    if not is_event_id(event_id):
        return None
    try:
        event = store.call(lambda: Event.get(tenant_id, event_id, consistent_read=True), what="GetItem Event")
    except Event.DoesNotExist:
        return None
    return event if event.is_live() else None


def event_list(
    *,
    tenant_id: str,
    status: str | None = None,
    event_type: str | None = None,
    order: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> EventPage:
    """With a status: that inbox, oldest first. Without: all events, newest first. `order`
    ("asc" or "desc") overrides either. Reads one event past the page to know, exactly,
    whether there is more."""
    order = order or ("asc" if status else "desc")
    query = {"status": status, "event_type": event_type, "order": order}
    after = cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query) if cursor else None
    condition = Event.expires_at > datetime.now(UTC)
    if event_type is not None:
        condition &= Event.event_type == event_type
    # A filter drops items after DynamoDB's Limit applies, so filtered reads take bigger pages.
    options = {"filter_condition": condition, "limit": limit + 1, "page_size": 100 if event_type else limit + 1}

    def read() -> list[Event]:
        if status:
            tenant_status = f"{tenant_id}#{status}"
            start = {"tenant_status": {"S": tenant_status}, "tenant_id": {"S": tenant_id}, "sk": {"S": after}}
            results = Event.status_index.query(
                tenant_status, last_evaluated_key=start if after else None, scan_index_forward=order == "asc", **options
            )
        else:
            start = {"tenant_id": {"S": tenant_id}, "sk": {"S": after}}
            results = Event.query(
                tenant_id,
                Event.event_id.startswith(EVENT_PREFIX),
                last_evaluated_key=start if after else None,
                scan_index_forward=order == "asc",
                **options,
            )
        return list(results)

    # A fresh query on each attempt: a retried iterator would skip what it had read.
    events = store.call(read, what="Query events")
    has_more = len(events) > limit
    events = events[:limit]
    next_cursor = (
        cursor_encode(tenant_id=tenant_id, query=query, last_event_id=events[-1].event_id) if has_more else None
    )
    return EventPage(events=events, next_cursor=next_cursor, has_more=has_more)
