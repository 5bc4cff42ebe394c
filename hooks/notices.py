"""Events about the tenant's own integration (OBSERVE.md): `triggerapi.hook.disabled` when
the pipeline disables a hook (410: `gone`; 5 days of failures: `failing`), and
`triggerapi.delivery.failed` when a delivery's last scheduled attempt failed. Something to
act on, pushed where the tenant asked for it: to its active hooks that name the type in
their `event_types` (a catch-all hook never gets one), never to the hook it is about.

A notice is not one of the tenant's events: it has an event id and the event object's shape,
but no row in the events table, so the pull inbox, lists, stats and the table's stream never
see it. Each of its deliveries carries the body (Delivery.body), which the dispatcher sends
instead of reading an event; otherwise it is a delivery as any: signed, retried on the
schedule, listed with its attempts, kept for RETENTION_DAYS.

Once per decision: only the conditional write that disabled the hook or ended the delivery
calls here, after it succeeded (a retry of it that recognised its own first write is that
one write, answered once). Each delivery is put on condition that it does not exist (its
key is its hook and the notice's id), in a transaction with its token, so one retried after
a lost answer finds its own write and is made, counted and announced once.

No loops: a notice's own delivery that fails makes none (nor does the delivery of any
`triggerapi.*` event); a hook disabled while a notice was delivered to it still makes one,
since a disabled hook is something to act on whatever disabled it.

Never raised into the outcome's path: that is recorded already, so a store that fails here
costs the notice (logged), not the outcome."""

import json
import logging

from activity import deliveries
from events.ids import new_event_ids
from events.lifecycle import new_event
from events.selectors import event_get
from hooks import lanes, lifecycle, schedule
from hooks.fanout import LOGGER, event_body, hook_active_check
from hooks.models import Delivery, Hook
from hooks.selectors import hooks_active
from triggerapi import writes
from triggerapi.store import StoreUnavailable, TransactionCanceled, now_ms

log = logging.getLogger(LOGGER)

HOOK_DISABLED = "triggerapi.hook.disabled"
DELIVERY_FAILED = "triggerapi.delivery.failed"
# Event types of triggerapi's own: a failed delivery of one makes no notice.
OWN_PREFIX = "triggerapi."


def hook_disabled(hook: Hook, reason: str) -> None:
    """The pipeline disabled `hook` (`gone` or `failing`; a manual disable never comes here)."""
    _notify(
        hook.tenant_id,
        about=hook.hook_id,
        payload={"event_type": HOOK_DISABLED, "hook_id": hook.hook_id, "reason": reason},
    )


def delivery_ended(delivery: Delivery, ending: lifecycle.Ending, *, body: str | None) -> None:
    """`delivery` as its attempt's outcome (`ending`) left it: a notice if that was its last
    scheduled attempt and it failed (not a 410, which disables the hook and says so; not an
    event gone early). `body`: what the attempt sent, if it was read (it names the type)."""
    if ending.outcome != schedule.FAILED or lifecycle.attempt_number(delivery) < schedule.MAX_ATTEMPTS:
        return
    payload = {
        "event_type": DELIVERY_FAILED,
        "hook_id": delivery.hook_id,
        "delivery_id": delivery.delivery_id,
        "event_id": delivery.event_id,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
    }
    _notify(delivery.tenant_id, about=delivery.hook_id, payload=payload, unless_own=(delivery, body))


def _of_own_type(delivery: Delivery, body: str | None) -> bool:
    """The delivery is of a `triggerapi.*` event: a notice's (it carries its body), or an
    event of such a type (read from the body sent, or from the event when none was)."""
    if delivery.body is not None:
        return True
    if body is not None:
        event_type = json.loads(body).get("event_type")
    else:
        event = event_get(tenant_id=delivery.tenant_id, event_id=delivery.event_id)
        event_type = event.event_type if event is not None else None
    return isinstance(event_type, str) and event_type.startswith(OWN_PREFIX)


def _notify(
    tenant_id: str, *, about: str, payload: dict, unless_own: tuple[Delivery, str | None] | None = None
) -> None:
    """The notice made, and a delivery of it to each hook that asks (the hooks read first: a
    tenant that subscribes none costs one Query, and no read of the event)."""
    event_type = payload["event_type"]
    try:
        receivers = [h for h in hooks_active(tenant_id=tenant_id) if event_type in h.event_types and h.hook_id != about]
        if not receivers or (unless_own is not None and _of_own_type(*unless_own)):
            return
    except StoreUnavailable as exc:
        log.warning("notice not made", extra={"hook_id": about, "event_type": event_type, "error": str(exc)})
        return
    event = new_event(tenant_id, new_event_ids()[0], payload)
    body = event_body(event)
    for hook in receivers:
        _deliver(hook, lifecycle.notice(hook, event, body=body, now=now_ms()), about=about)


def _deliver(hook: Hook, delivery: Delivery, *, about: str) -> None:
    """One receiving hook's delivery of the notice, made as fan-out makes one (only while
    the hook is active: a hook disabled since it was read is owed nothing), then its lane
    marked ready (after the write: a turn that looked between would find nothing and let
    the lane go)."""
    where = {"hook_id": delivery.hook_id, "about": about, "event_id": delivery.event_id}
    token = writes.new_token()
    made = writes.tx_put(delivery, Delivery.pk.does_not_exist(), token=token)
    try:
        writes.transact(Delivery, [made, hook_active_check(hook)], token=token)
    except TransactionCanceled:
        return  # made already, not by this write (counted and announced then), or hook disabled
    except StoreUnavailable as exc:
        log.warning("notice not delivered", extra={**where, "error": str(exc)})
        return
    deliveries.delivery_owed(tenant_id=delivery.tenant_id, hook_id=delivery.hook_id)
    try:
        lanes.lane_notify(tenant_id=delivery.tenant_id, hook_id=delivery.hook_id, due_ms=delivery.next_attempt_at)
    except StoreUnavailable as exc:
        # The delivery waits in its hook's queue until the lane is next marked (its next event).
        log.warning("lane not woken for a notice", extra={**where, "error": str(exc)})
