"""Reads. Expired events (past their TTL, not yet deleted by DynamoDB) are never returned."""

from datetime import UTC, datetime

from events.ids import EVENT_PREFIX, is_event_id
from events.models import Event
from triggerapi import store
from triggerapi.pagination import Listing, Page, page_read


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
) -> Page[Event]:
    """With a status: that inbox, oldest first. Without: all events, newest first. `order`
    ("asc" or "desc") overrides either."""
    order = order or ("asc" if status else "desc")
    condition = Event.expires_at > datetime.now(UTC)
    if event_type is not None:
        condition &= Event.event_type == event_type
    options = {"filter_condition": condition, "scan_index_forward": order == "asc"}
    if status:
        listing = Listing(Event, f"{tenant_id}#{status}", index=Event.status_index, **options)
    else:
        listing = Listing(Event, tenant_id, Event.event_id.startswith(EVENT_PREFIX), **options)
    return page_read(
        listing,
        tenant_id=tenant_id,
        query={"status": status, "event_type": event_type, "order": order},
        limit=limit,
        cursor=cursor,
        what="Query events",
        # An event_type filter drops items after DynamoDB's page limit, and its pages must
        # still be full.
        full_pages=event_type is not None,
    )
