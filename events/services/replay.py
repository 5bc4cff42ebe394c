"""Replay: deliver again what was delivered or failed, for events created in a time range.
It reads the status index (with a type, the index by type and status) by id range (ids
sort by creation), never scans the table, and moves at most REPLAY_PAGE events per call; a
signed cursor continues where it stopped."""

from collections.abc import Iterator
from heapq import merge
from itertools import islice

from events import lifecycle
from events.ids import id_range
from events.lifecycle import REPLAYABLE, as_datetime, type_key
from events.models import TYPE_STATUS_INDEX, Event
from events.services import wakeups
from events.services.common import EventNotFound, in_parallel, transition
from triggerapi import store
from triggerapi.exceptions import write_unavailable
from triggerapi.pagination import cursor_decode, cursor_encode, start_key
from triggerapi.store import StoreUnavailable, now_ms

REPLAY_PAGE = 1000


def event_replay(
    *,
    tenant_id: str,
    since: int,
    until: int,
    event_type: str | None = None,
    statuses: tuple[str, ...] = REPLAYABLE,
    cursor: str | None = None,
) -> tuple[int, str | None]:
    """(how many events went back to undelivered, the cursor to go on with or None)."""
    query = {"since": since, "until": until, "event_type": event_type, "statuses": sorted(set(statuses))}
    after = cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query) if cursor else None
    now = now_ms()
    found = store.call(
        lambda: _replayable(tenant_id, since, until, event_type, query["statuses"], after, now), what="Query replay"
    )
    page = found[:REPLAY_PAGE]
    outcomes = in_parallel(lambda event: _replay_one(tenant_id, event.event_id, now), page)
    replayed = sum(1 for outcome in outcomes if outcome is True)
    if any(isinstance(outcome, StoreUnavailable) for outcome in outcomes):
        raise write_unavailable(maybe_applied=True, replayed=replayed)
    if replayed:
        wakeups.notify(tenant_id)
    more = len(found) > REPLAY_PAGE
    next_cursor = cursor_encode(tenant_id=tenant_id, query=query, after=page[-1].event_id) if more else None
    return replayed, next_cursor


def _replayable(tenant_id, since, until, event_type, statuses, after, now) -> list[Event]:
    """Up to REPLAY_PAGE + 1 matching events after `after`, by id, across the statuses."""
    bounds = id_range(since, until)
    if bounds is None:
        return []
    live = Event.expires_at > as_datetime(now)
    streams = [_by_status(tenant_id, status, event_type, bounds, live, after) for status in statuses]
    return list(islice(merge(*streams, key=lambda e: e.event_id), REPLAY_PAGE + 1))


def _by_status(tenant_id, status, event_type, bounds, live, after) -> Iterator[Event]:
    """The status's events in the id range, of the type if given (read from the index by
    type and status: other types are never read)."""
    in_range = Event.event_id.between(*bounds)
    if event_type is None:
        return Event.status_index.query(
            f"{tenant_id}#{status}",
            in_range,
            filter_condition=live,
            page_size=100,
            last_evaluated_key=_start(tenant_id, status, after),
        )
    partition = (type_key(tenant_id, event_type), status)
    position = {"tenant_id": {"S": tenant_id}, "sk": {"S": after}} if after is not None else None
    items = TYPE_STATUS_INDEX.iterate(
        Event,
        partition,
        range_key_condition=in_range,
        filter_condition=live,
        page_size=100,
        start=TYPE_STATUS_INDEX.start_key(partition, position) if position else None,
    )
    return map(Event.from_raw_data, items)


def _start(tenant_id: str, status: str, after: str | None) -> dict | None:
    """Where a status's stream goes on: after the last event the previous call replayed."""
    if after is None:
        return None
    return start_key(Event(tenant_id, after, tenant_status=f"{tenant_id}#{status}"), Event.status_index)


def _replay_one(tenant_id: str, event_id: str, now: int) -> bool | StoreUnavailable:
    """True if this call put the event back; False if it had changed meanwhile."""
    try:
        refused = transition(
            tenant_id=tenant_id,
            event_id=event_id,
            move=lifecycle.replay(tenant_id, event_id, now=now),
            now=now,
            explain=lambda current, uncertain: False,  # no longer delivered or failed
            returns=False,
        )
    except EventNotFound:
        return False
    except StoreUnavailable as exc:
        return exc
    return refused is None
