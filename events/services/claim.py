"""Claim: lease the oldest claimable events. Each is taken with a write conditional on the
inbox key we read, so two claims, however concurrent, never both take one event.

A claim with `wait_seconds` polls the inbox index until something is claimable: at most
once per POLL_SECONDS (4 queries per waited second), sooner when this process sees the
tenant's inbox change (events.services.wakeups), and not at all once it has events. While it
waits it holds one of its tenant's places for waiting claims (limits.waiting)."""

import time
from itertools import islice

from django.conf import settings

from events import lifecycle
from events.lifecycle import as_datetime, live, type_key
from events.models import INBOX_TYPE_INDEX, Event
from events.services import wakeups
from events.services.common import in_parallel
from limits.waiting import waiting_place
from triggerapi import metrics, store, writes
from triggerapi.context import budget
from triggerapi.exceptions import write_unavailable
from triggerapi.pagination import start_key
from triggerapi.store import ConditionFailed, StoreUnavailable, now_ms

# A waiting claim reads the inbox every IDLE_POLL_SECONDS, sooner when woken, and never more
# than MAX_POLLS_PER_SECOND times per waited second on average.
IDLE_POLL_SECONDS = 0.3
MAX_POLLS_PER_SECOND = 4
# The last poll of a wait, and each one before it, may use the store this long: with one
# attempt's timeouts on top, a 20 s wait ends within API Gateway's 29 s.
POLL_BUDGET_SECONDS = 4.0


def event_claim(
    *,
    tenant_id: str,
    limit: int = 10,
    lease_seconds: int = 30,
    event_type: str | None = None,
    wait_seconds: float = 0,
) -> list[Event]:
    """Up to `limit` events, oldest first, each with a new lease; waiting up to
    `wait_seconds` for the first one if none is claimable now."""
    if not wait_seconds:
        return _claim_now(tenant_id, limit, lease_seconds, event_type)
    started = time.monotonic()
    deadline = started + wait_seconds
    with wakeups.Waiter(tenant_id) as waiter:
        polled = started
        events = _poll(tenant_id, limit, lease_seconds, event_type, deadline)
        # A claim that finds events at once never takes one of the tenant's places.
        if events or time.monotonic() >= deadline:
            return events
        wait_ends_ms = now_ms() + round((deadline - time.monotonic()) * 1000)
        with waiting_place(tenant_id=tenant_id, wait_ends_ms=wait_ends_ms):
            polls = 1
            while True:
                waiter.wait(min(polled + IDLE_POLL_SECONDS, deadline) - time.monotonic())
                earliest = started + polls / MAX_POLLS_PER_SECOND
                time.sleep(max(0.0, min(earliest, deadline) - time.monotonic()))
                polled = time.monotonic()
                events = _poll(tenant_id, limit, lease_seconds, event_type, deadline)
                polls += 1
                if events or time.monotonic() >= deadline:
                    return events


def _poll(tenant_id: str, limit: int, lease_seconds: int, event_type: str | None, deadline: float) -> list[Event]:
    with budget(min(settings.STORE_BUDGET_SECONDS, deadline + POLL_BUDGET_SECONDS - time.monotonic())):
        return _claim_now(tenant_id, limit, lease_seconds, event_type)


def _claim_now(tenant_id: str, limit: int, lease_seconds: int, event_type: str | None) -> list[Event]:
    """An event the store fails on is skipped (if the store took the lease anyway, the
    lease runs out). Events that fail as they are taken (out of attempts), or that another
    claim takes first, are made up for from further in the inbox."""
    now = now_ms()
    claimed: list[Event] = []
    failures: list[StoreUnavailable] = []
    pending: list[Event] = []
    after: Event | None = None
    more = True
    while len(claimed) < limit and (pending or more):
        if not pending:
            pending = store.call(
                lambda after=after: _candidates(tenant_id, now, limit, event_type, after), what="Query inbox"
            )
            # A short page is the inbox's end: no need to ask again.
            more = len(pending) == _page(limit)
            after = pending[-1] if pending else None
            continue
        batch, pending = pending[: limit - len(claimed)], pending[limit - len(claimed) :]
        for taken in in_parallel(lambda candidate: _take(candidate, now, lease_seconds), batch):
            if isinstance(taken, StoreUnavailable):
                failures.append(taken)
            elif taken is not None:
                claimed.append(taken)
    if failures and not claimed:
        raise write_unavailable(maybe_applied=any(f.maybe_applied for f in failures))
    if claimed:
        metrics.count("Claimed", tenant=tenant_id, n=len(claimed))
    return sorted(claimed, key=lambda event: event.event_id)


def _page(limit: int) -> int:
    """Twice the limit, so that losing some candidates to concurrent claims still fills the
    claim from one read."""
    return min(100, limit * 2)


def _candidates(tenant_id: str, now: int, limit: int, event_type: str | None, after: Event | None) -> list[Event]:
    """Claimable events, oldest first, after `after` if given: from the inbox of the type
    when there is one, so that events of other types cost nothing to pass over."""
    live = Event.expires_at > as_datetime(now)
    claimable = Event.inbox_key < f"{now + 1:013d}"
    if event_type is not None:
        items = INBOX_TYPE_INDEX.iterate(
            Event,
            (type_key(tenant_id, event_type),),
            range_key_condition=claimable,
            filter_condition=live,
            page_size=_page(limit),
            start=INBOX_TYPE_INDEX.key_of(after) if after is not None else None,
        )
        return [Event.from_raw_data(item) for item in islice(items, _page(limit))]
    query = Event.inbox_index.query(
        tenant_id,
        claimable,
        filter_condition=live,
        page_size=_page(limit),
        last_evaluated_key=start_key(after, Event.inbox_index) if after is not None else None,
    )
    return list(islice(query, _page(limit)))


def _take(candidate: Event, now: int, lease_seconds: int) -> Event | StoreUnavailable | None:
    """Claim one candidate, or fail it if it has used up its attempts. None if another
    claim (or an ack) got there first, or if it failed."""
    exhausted = candidate.attempts >= settings.MAX_ATTEMPTS
    if exhausted:
        move = lifecycle.fail(candidate, now=now)
    else:
        move = lifecycle.claim(candidate, now=now, lease_seconds=lease_seconds, lease_id=writes.new_token())
    try:
        item = writes.update(
            Event,
            candidate.tenant_id,
            candidate.event_id,
            actions=move.actions,
            condition=move.condition & live(now),
            token=writes.new_token(),
        )
    except ConditionFailed:
        return None
    except StoreUnavailable as exc:
        return exc
    if exhausted:
        metrics.count("Failed", tenant=candidate.tenant_id)
        return None
    return Event.from_raw_data(item)
