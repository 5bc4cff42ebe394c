"""Settling the events a consumer was handed: ack, release, extend, retry, delete. Each
state change is one conditional UpdateItem built by events.lifecycle; when its condition fails, the store sends
back the event as it is, and that explains the answer (no second read).

Each write carries a token (triggerapi.writes): a write whose answer was lost and that was
retried recognises its own first attempt and answers its true outcome. If an earlier
attempt may have been applied and the event has changed since, nobody can tell what
happened: that is a 503 saying so, never a guessed 404 or 409."""

from collections.abc import Callable

from rest_framework.exceptions import ValidationError

from events import lifecycle
from events.lifecycle import MAX_LEASE_SECONDS
from events.models import FAILED, UNDELIVERED, Event
from events.services import wakeups
from events.services.common import EventNotFound, in_parallel, transition
from triggerapi import metrics
from triggerapi.exceptions import Conflict, write_unavailable
from triggerapi.store import StoreUnavailable, now_ms


def _already_delivered(current: Event, uncertain: bool) -> Event:
    """The only live event an ack's condition refuses is a delivered one: 200 again."""
    return current


def event_ack(*, tenant_id: str, event_id: str) -> None:
    """Mark delivered (whatever the lease). Acking a delivered event changes nothing (nor
    counts as acked again)."""
    now = now_ms()
    delivered_before = transition(
        tenant_id=tenant_id,
        event_id=event_id,
        move=lifecycle.ack(tenant_id, now=now),
        now=now,
        explain=_already_delivered,
        returns=False,
    )
    if delivered_before is None:
        metrics.count("Acked", tenant=tenant_id)


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

    def someone_else_deleted_it(current: Event, uncertain: bool) -> None:
        raise EventNotFound(event_id)  # a live event always passes the condition

    now = now_ms()
    transition(
        tenant_id=tenant_id,
        event_id=event_id,
        move=lifecycle.delete(now=now),
        now=now,
        explain=someone_else_deleted_it,
        returns=False,
    )


def _must_be(status: str, action: str) -> Callable[[Event, bool], Event]:
    def explain(current: Event, uncertain: bool) -> Event:
        if uncertain:
            raise write_unavailable(maybe_applied=True)
        raise Conflict(f"Event {current.event_id} is {current.status}; only {status} events can be {action}.")

    return explain


def event_release(*, tenant_id: str, event_id: str, delay_seconds: int = 0, lease_id: str | None = None) -> Event:
    """End a lease early; the event is claimable again after `delay_seconds`. With a lease
    id, only that lease: 409 once it is gone (ended, released, re-claimed, acked, failed)."""
    now = now_ms()
    released = transition(
        tenant_id=tenant_id,
        event_id=event_id,
        move=lifecycle.release(tenant_id, event_id, now=now, delay_seconds=delay_seconds, lease_id=lease_id),
        now=now,
        explain=_lease_gone(lease_id) if lease_id else _must_be(UNDELIVERED, "released"),
    )
    wakeups.notify(tenant_id)
    return released


def event_extend(*, tenant_id: str, event_id: str, lease_id: str, lease_seconds: int = 30) -> Event:
    """A heartbeat: the lease runs `lease_seconds` from now, if `lease_id` is still the
    event's current lease, up to MAX_LEASE_SECONDS from the claim that opened it."""
    now = now_ms()

    def explain(current: Event, uncertain: bool) -> Event:
        if current.lease_id == lease_id and current.status == UNDELIVERED and current.lease_expires_at > now:
            left = max(0, (current.leased_at + MAX_LEASE_SECONDS * 1000 - now) // 1000)
            raise ValidationError(
                {"lease_seconds": [f"A lease runs at most {MAX_LEASE_SECONDS} s from its claim; {left} s are left."]}
            )
        return _lease_gone(lease_id)(current, uncertain)

    return transition(
        tenant_id=tenant_id,
        event_id=event_id,
        move=lifecycle.extend(event_id, now=now, lease_seconds=lease_seconds, lease_id=lease_id),
        now=now,
        explain=explain,
    )


def _lease_gone(lease_id: str) -> Callable[[Event, bool], Event]:
    def explain(current: Event, uncertain: bool) -> Event:
        if uncertain:
            raise write_unavailable(maybe_applied=True)
        why = "it ended, was released, or the event was claimed again" if current.status == UNDELIVERED else ""
        raise Conflict(
            f"Lease {lease_id[:64]} on event {current.event_id} is gone: {why or f'the event is {current.status}'}."
        )

    return explain


def event_retry(*, tenant_id: str, event_id: str) -> Event:
    """Put a failed event back in the inbox with a fresh count of attempts."""
    now = now_ms()
    retried = transition(
        tenant_id=tenant_id,
        event_id=event_id,
        move=lifecycle.retry(tenant_id, event_id, now=now),
        now=now,
        explain=_must_be(FAILED, "retried"),
    )
    wakeups.notify(tenant_id)
    return retried
