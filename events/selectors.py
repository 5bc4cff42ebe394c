"""Reads. Expired events (past their TTL, not yet deleted by DynamoDB) are never returned."""

from datetime import UTC, datetime

from events.ids import EVENT_PREFIX, is_event_id
from events.lifecycle import type_key
from events.models import TYPE_INDEX, TYPE_STATUS_INDEX, Event
from triggerapi import store
from triggerapi.pagination import IndexListing, Listing, Page, index_page_read, page_read


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
    ("asc" or "desc") overrides either. A type is a key condition (an index by type)."""
    order = order or ("asc" if status else "desc")
    query = {"status": status, "event_type": event_type, "order": order}
    options = {"scan_index_forward": order == "asc"}
    if event_type is not None:
        return index_page_read(
            _by_type(tenant_id, status, event_type, options),
            tenant_id=tenant_id,
            query=query,
            limit=limit,
            cursor=cursor,
            what="Query events by type",
        )
    live = Event.expires_at > datetime.now(UTC)
    if status:
        listing = Listing(Event, f"{tenant_id}#{status}", index=Event.status_index, filter_condition=live, **options)
    else:
        listing = Listing(Event, tenant_id, Event.event_id.startswith(EVENT_PREFIX), filter_condition=live, **options)
    return page_read(listing, tenant_id=tenant_id, query=query, limit=limit, cursor=cursor, what="Query events")


def _by_type(tenant_id: str, status: str | None, event_type: str, options: dict) -> IndexListing:
    """The tenant's events of the type (in the status). The items are read after the index:
    one deleted, expired or moved to another status meanwhile is left out."""
    key = type_key(tenant_id, event_type)

    def keep(event: Event) -> bool:
        return event.is_live() and (status is None or event.status == status)

    if status:
        live = Event.expires_at > datetime.now(UTC)
        return IndexListing(Event, TYPE_STATUS_INDEX, (key, status), keep, filter_condition=live, **options)
    return IndexListing(Event, TYPE_INDEX, (key,), keep, **options)
