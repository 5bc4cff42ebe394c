"""Puts the events stored before the indexes by type existed into them: `type_key` is the
one attribute those indexes need that such events lack (status and inbox_key they have).
A one-off for an existing deployment (`manage.py index_event_types`, docs/DEPLOY.md), safe
to stop and run again: it scans the table for typed events without the key and sets it on
each with a write conditional on the event still having that type and no key, so it never
races a delete or an event written by the new code."""

from collections.abc import Callable
from dataclasses import dataclass

from events import lifecycle
from events.lifecycle import type_key
from events.models import Event
from events.services.common import in_parallel
from triggerapi import store, writes
from triggerapi.store import ConditionFailed

SCAN_PAGE = 500


@dataclass
class Indexed:
    # Typed events found without a type_key.
    scanned: int = 0
    indexed: int = 0
    # A type longer than lifecycle.MAX_INDEXED_TYPE: stored, never indexed.
    too_long: int = 0
    # Deleted, or given its key by the new code, after the scan read it.
    changed: int = 0


def events_index_types(*, progress: Callable[[Indexed], None] = lambda counts: None) -> Indexed:
    counts = Indexed()
    start = None
    while True:
        page, start = store.call(lambda start=start: _unindexed(start), what="Scan events without type_key")
        counts.scanned += len(page)
        for outcome in in_parallel(_index_one, page):
            setattr(counts, outcome, getattr(counts, outcome) + 1)
        if page:
            progress(counts)
        if start is None:
            return counts


def _unindexed(start: dict | None) -> tuple[list[Event], dict | None]:
    """One Scan call: typed events without a type_key (tombstones have no type)."""
    results = Event.scan(
        Event.event_type.exists() & Event.type_key.does_not_exist(), last_evaluated_key=start, page_size=SCAN_PAGE
    )
    page = next(results.page_iter)
    return [Event.from_raw_data(raw) for raw in page.get("Items", [])], results.page_iter.last_evaluated_key


def _index_one(event: Event) -> str:
    if type_key(event.tenant_id, event.event_type) is None:
        return "too_long"
    move = lifecycle.index_type(event.tenant_id, event.event_type)
    try:
        writes.update(
            Event,
            event.tenant_id,
            event.event_id,
            actions=move.actions,
            condition=move.condition,
            token=None,
            return_item=False,
        )
    except ConditionFailed:
        return "changed"
    return "indexed"
