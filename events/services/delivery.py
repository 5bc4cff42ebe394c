"""Delivery: claim with a lease, ack, release, retry, delete. Each state change is one
conditional UpdateItem; when its condition fails, the store sends back the event as it is,
and that explains the answer (no second read).

Each write carries a token (triggerapi.writes): a write whose answer was lost and that was
retried recognises its own first attempt and answers its true outcome. If an earlier
attempt may have been applied and the event has changed since, nobody can tell what
happened: that is a 503 saying so, never a guessed 404 or 409."""

from collections.abc import Callable
from itertools import islice

from django.conf import settings

from events.ids import is_event_id
from events.models import DELETED, DELIVERED, FAILED, UNDELIVERED, Event, inbox_key
from events.services.common import DAY_MS, EventNotFound, as_datetime, in_parallel
from triggerapi import store, writes
from triggerapi.exceptions import Conflict, write_unavailable
from triggerapi.store import ConditionFailed, StoreUnavailable, now_ms


def _live(now: int):
    return Event.event_id.exists() & (Event.expires_at > as_datetime(now))


def _update(
    *,
    tenant_id: str,
    event_id: str,
    actions: list,
    condition,
    explain: Callable[[Event, bool], Event | None],
    returns=True,
) -> Event | None:
    """Apply `actions` if `condition` holds; otherwise `explain(current, uncertain)` judges
    the event as it is (returns it for an idempotent repeat, or raises). A missing event is
    404. With `returns` False the store sends nothing back, which is cheaper."""
    if not is_event_id(event_id):
        raise EventNotFound(event_id)
    now = now_ms()
    try:
        item = writes.update(
            Event,
            tenant_id,
            event_id,
            actions=actions,
            condition=_live(now) & condition,
            token=writes.new_token(),
            return_item=returns,
        )
    except ConditionFailed as exc:
        current = Event.from_raw_data(exc.item) if exc.item else None
        if current is None or not current.is_live(as_datetime(now)):
            raise EventNotFound(event_id) from None
        return explain(current, exc.uncertain)
    return Event.from_raw_data(item) if returns else None


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


def _already_delivered(current: Event, uncertain: bool) -> None:
    """The only live event an ack's condition refuses is a delivered one: 200 again."""


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
    """(acknowledged, not_found), each in request order; repeated ids count once. If the store
    fails on some, the 503 says which were acknowledged; acking again is always safe."""
    unique = list(dict.fromkeys(event_ids))

    def ack(event_id: str) -> bool | StoreUnavailable:
        try:
            event_ack(tenant_id=tenant_id, event_id=event_id)
            return True
        except EventNotFound:
            return False
        except StoreUnavailable as exc:
            return exc

    outcomes = dict(zip(unique, in_parallel(ack, unique), strict=True))
    # One more round for those the store failed on: a blip should not fail the whole list.
    failed = [i for i, outcome in outcomes.items() if isinstance(outcome, StoreUnavailable)]
    outcomes.update(zip(failed, in_parallel(ack, failed), strict=True))
    failures = [outcome for outcome in outcomes.values() if isinstance(outcome, StoreUnavailable)]
    acknowledged = [i for i in unique if outcomes[i] is True]
    if failures:
        maybe_applied = bool(acknowledged) or any(failure.maybe_applied for failure in failures)
        raise write_unavailable(maybe_applied=maybe_applied, acknowledged=acknowledged)
    return acknowledged, [i for i in unique if outcomes[i] is False]


def event_delete(*, tenant_id: str, event_id: str) -> None:
    """The payload goes at once; a tombstone (key, times, the write's token) stays until
    DynamoDB's TTL reaps it, invisible to every read. It is what lets a retried delete
    whose first answer was lost answer 204, and a second delete 404."""
    now = now_ms()

    def someone_else_deleted_it(current: Event, uncertain: bool) -> None:
        raise EventNotFound(event_id)  # a live event always passes the condition

    _update(
        tenant_id=tenant_id,
        event_id=event_id,
        actions=[
            Event.status.set(DELETED),
            Event.expires_at.set(as_datetime(now)),
            *(attribute.remove() for attribute in _DELETED_ATTRIBUTES),
        ],
        condition=Event.event_id.exists(),
        explain=someone_else_deleted_it,
        returns=False,
    )


_DELETED_ATTRIBUTES = (
    Event.payload,
    Event.event_type,
    Event.tenant_status,
    Event.inbox_tenant,
    Event.inbox_key,
    Event.lease_expires_at,
    Event.delivered_at,
)


def _must_be(status: str, action: str) -> Callable[[Event, bool], Event]:
    def explain(current: Event, uncertain: bool) -> Event:
        if uncertain:
            raise write_unavailable(maybe_applied=True)
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
    conditional on the inbox key we read, so two claims can never both take one event.
    An event the store fails on is skipped (if the write landed, its lease runs out)."""
    now = now_ms()
    candidates = store.call(lambda: _candidates(tenant_id, now, limit, event_type), what="Query inbox")
    claimed: list[Event] = []
    failures: list[StoreUnavailable] = []
    while len(claimed) < limit and candidates:
        batch, candidates = candidates[: limit - len(claimed)], candidates[limit - len(claimed) :]
        for taken in in_parallel(lambda candidate: _take(candidate, now, lease_seconds), batch):
            if isinstance(taken, StoreUnavailable):
                failures.append(taken)
            elif taken is not None:
                claimed.append(taken)
    if failures and not claimed:
        raise write_unavailable(maybe_applied=any(f.maybe_applied for f in failures))
    return sorted(claimed, key=lambda event: event.event_id)


def _candidates(tenant_id: str, now: int, limit: int, event_type: str | None) -> list[Event]:
    """Claimable events, oldest first: twice the limit, so that losing some to concurrent
    claims still fills the claim from one read."""
    condition = Event.expires_at > as_datetime(now)
    if event_type is not None:
        condition &= Event.event_type == event_type
    query = Event.inbox_index.query(
        tenant_id, Event.inbox_key < f"{now + 1:013d}", filter_condition=condition, page_size=min(100, limit * 2)
    )
    return list(islice(query, min(100, limit * 2)))


def _take(candidate: Event, now: int, lease_seconds: int) -> Event | StoreUnavailable | None:
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
    try:
        item = writes.update(
            Event,
            candidate.tenant_id,
            candidate.event_id,
            actions=actions,
            condition=(Event.inbox_key == candidate.inbox_key) & _live(now),
            token=writes.new_token(),
        )
    except ConditionFailed:
        return None
    except StoreUnavailable as exc:
        return exc
    return None if exhausted else Event.from_raw_data(item)
