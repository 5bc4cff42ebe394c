"""Delivery: claim with a lease, ack, release, retry, delete. Each state change is one
conditional UpdateItem/DeleteItem; a failed condition is then explained with one read."""

from collections.abc import Callable
from itertools import islice

from django.conf import settings
from pynamodb.exceptions import DeleteError, UpdateError

from events.ids import is_event_id
from events.models import DELIVERED, FAILED, UNDELIVERED, Event, inbox_key
from events.selectors import event_get
from events.services.common import DAY_MS, EventNotFound, as_datetime, in_parallel
from triggerapi.exceptions import Conflict
from triggerapi.store import is_condition_failure, now_ms


def _live(now: int):
    return Event.event_id.exists() & (Event.expires_at > as_datetime(now))


def _update(
    *, tenant_id: str, event_id: str, actions: list, condition, explain: Callable[[Event], Event | None], returns=True
) -> Event | None:
    """Apply `actions` if `condition` holds; otherwise let `explain` judge the current event
    (return it for an idempotent repeat, or raise). A missing event is 404. With `returns`
    False the store sends nothing back, which is cheaper when the caller needs no event."""
    if not is_event_id(event_id):
        raise EventNotFound(event_id)
    condition = _live(now_ms()) & condition
    try:
        if not returns:
            Event._get_connection().update_item(tenant_id, range_key=event_id, actions=actions, condition=condition)
            return None
        event = Event(tenant_id, event_id)
        event.update(actions=actions, condition=condition)
        return event
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
    current = event_get(tenant_id=tenant_id, event_id=event_id)
    if current is None:
        raise EventNotFound(event_id)
    return explain(current)


def _delivered_actions(tenant_id: str, now: int) -> list:
    return [
        Event.status.set(DELIVERED),
        Event.tenant_status.set(f"{tenant_id}#{DELIVERED}"),
        Event.delivered_at.set(now),
        Event.expires_at.set(as_datetime(now + settings.DELIVERED_RETENTION_DAYS * DAY_MS)),
        Event.lease_expires_at.remove(),
        Event.inbox_tenant.remove(),
        Event.inbox_key.remove(),
    ]


def _already_delivered(current: Event) -> None:
    if current.status != DELIVERED:
        raise Conflict(f"Event {current.event_id} changed while it was being acknowledged; retry.")


def event_ack(*, tenant_id: str, event_id: str) -> None:
    """Mark delivered (whatever the lease). Acking a delivered event changes nothing."""
    _update(
        tenant_id=tenant_id,
        event_id=event_id,
        actions=_delivered_actions(tenant_id, now_ms()),
        condition=Event.status != DELIVERED,
        explain=_already_delivered,
        returns=False,
    )


def event_ack_many(*, tenant_id: str, event_ids: list[str]) -> tuple[list[str], list[str]]:
    """(acknowledged, not_found), each in request order; repeated ids count once."""
    unique = list(dict.fromkeys(event_ids))

    def ack(event_id: str) -> bool:
        try:
            event_ack(tenant_id=tenant_id, event_id=event_id)
            return True
        except EventNotFound:
            return False

    found = in_parallel(ack, unique)
    outcomes = list(zip(unique, found, strict=True))
    return [i for i, ok in outcomes if ok], [i for i, ok in outcomes if not ok]


def event_delete(*, tenant_id: str, event_id: str) -> None:
    if not is_event_id(event_id):
        raise EventNotFound(event_id)
    try:
        Event(tenant_id, event_id).delete(condition=_live(now_ms()))
    except DeleteError as exc:
        if is_condition_failure(exc):
            raise EventNotFound(event_id) from None
        raise


def _must_be(status: str, action: str) -> Callable[[Event], Event]:
    def explain(current: Event) -> Event:
        raise Conflict(f"Event {current.event_id} is {current.status}; only {status} events can be {action}.")

    return explain


def event_release(*, tenant_id: str, event_id: str, delay_seconds: int = 0) -> Event:
    """End a lease early; the event is claimable again after `delay_seconds`."""
    visible_at = now_ms() + delay_seconds * 1000
    return _update(
        tenant_id=tenant_id,
        event_id=event_id,
        actions=[Event.lease_expires_at.remove(), Event.inbox_key.set(inbox_key(visible_at, event_id))],
        condition=Event.status == UNDELIVERED,
        explain=_must_be(UNDELIVERED, "released"),
    )


def event_retry(*, tenant_id: str, event_id: str) -> Event:
    """Put a failed event back in the inbox with a fresh count of attempts."""
    return _update(
        tenant_id=tenant_id,
        event_id=event_id,
        actions=[
            Event.status.set(UNDELIVERED),
            Event.tenant_status.set(f"{tenant_id}#{UNDELIVERED}"),
            Event.attempts.set(0),
            Event.inbox_tenant.set(tenant_id),
            Event.inbox_key.set(inbox_key(now_ms(), event_id)),
        ],
        condition=Event.status == FAILED,
        explain=_must_be(FAILED, "retried"),
    )


def event_claim(
    *, tenant_id: str, limit: int = 10, lease_seconds: int = 30, event_type: str | None = None
) -> list[Event]:
    """Lease up to `limit` claimable events, oldest first. Each is taken with a write that is
    conditional on the inbox key we read, so two claims can never both take one event."""
    now = now_ms()
    candidates = iter(
        Event.inbox_index.query(
            tenant_id,
            Event.inbox_key < f"{now + 1:013d}",
            filter_condition=_claim_filter(now, event_type),
            page_size=min(100, limit * 2),
        )
    )
    claimed: list[Event] = []
    while len(claimed) < limit:
        batch = list(islice(candidates, limit - len(claimed)))
        if not batch:
            break
        taken = in_parallel(lambda candidate: _take(candidate, now, lease_seconds), batch)
        claimed.extend(event for event in taken if event is not None)
    return sorted(claimed, key=lambda event: event.event_id)


def _claim_filter(now: int, event_type: str | None):
    condition = Event.expires_at > as_datetime(now)
    if event_type is not None:
        condition &= Event.event_type == event_type
    return condition


def _take(candidate: Event, now: int, lease_seconds: int) -> Event | None:
    """Claim one candidate, or fail it if it has used up its attempts. None if another
    claim (or an ack) got there first, or if it failed."""
    exhausted = candidate.attempts >= settings.MAX_ATTEMPTS
    lease_expires_at = now + lease_seconds * 1000
    if exhausted:
        actions = [
            Event.status.set(FAILED),
            Event.tenant_status.set(f"{candidate.tenant_id}#{FAILED}"),
            Event.lease_expires_at.remove(),
            Event.inbox_tenant.remove(),
            Event.inbox_key.remove(),
        ]
    else:
        actions = [
            Event.attempts.add(1),
            Event.lease_expires_at.set(lease_expires_at),
            Event.inbox_key.set(inbox_key(lease_expires_at, candidate.event_id)),
        ]
    event = Event(candidate.tenant_id, candidate.event_id)
    try:
        event.update(actions=actions, condition=(Event.inbox_key == candidate.inbox_key) & _live(now))
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return None if exhausted else event
