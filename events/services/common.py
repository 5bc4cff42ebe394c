"""What the event services share: the store pool, 404s, and applying a transition."""

import contextvars
from collections.abc import Callable, Iterable

from rest_framework.exceptions import NotFound

from events.ids import is_event_id
from events.lifecycle import Transition, as_datetime, live
from events.models import Event
from triggerapi import thaw, writes
from triggerapi.store import ConditionFailed

# DynamoDB has no multi-item conditional update; independent single-item writes go out
# side by side so a batch costs about one round trip, not a hundred.
_pool = thaw.Pool(workers=8, name="store")


class EventNotFound(NotFound):
    def __init__(self, event_id: str):
        super().__init__(f"Event {event_id[:64]} not found.")


def in_parallel[T, R](fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`fn` over `items` on the pool, each in a copy of the caller's context (its request id
    and store budget); results in order, and the first error raised once all have ended."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    futures = [_pool.submit(contextvars.copy_context().run, fn, item) for item in items]
    errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error
    return [future.result() for future in futures]


def transition(
    *,
    tenant_id: str,
    event_id: str,
    move: Transition,
    now: int,
    explain: Callable[[Event, bool], Event | None],
    returns: bool = True,
) -> Event | None:
    """Apply a lifecycle transition if it is legal for the live event; otherwise the store
    sends back the event as it is, and `explain(current, uncertain)` judges it (returns it
    for an idempotent repeat, or raises). A missing event is 404. `uncertain`: an earlier
    attempt of this write may have been applied and the event changed since. With `returns`
    False the store sends nothing back, which is cheaper."""
    if not is_event_id(event_id):
        raise EventNotFound(event_id)
    try:
        item = writes.update(
            Event,
            tenant_id,
            event_id,
            actions=move.actions,
            condition=live(now) & move.condition,
            token=writes.new_token(),
            return_item=returns,
        )
    except ConditionFailed as exc:
        current = Event.from_raw_data(exc.item) if exc.item else None
        if current is None or not current.is_live(as_datetime(now)):
            raise EventNotFound(event_id) from None
        return explain(current, exc.uncertain)
    return Event.from_raw_data(item) if returns else None
