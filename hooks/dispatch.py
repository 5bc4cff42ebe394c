"""Dispatch: claiming due deliveries and making attempts. A delivery is due when its retry
comes, or when a claim ran out (its process died mid-attempt: that attempt is then counted
as failed and recorded as one that did not finish, hooks/lifecycle.py `lapse`); it is
attempted only once a claim is won (hooks/fanout.py says why), and each outcome goes to
hooks/outcomes.py as its attempt ends.
A due delivery whose hook is disabled is parked until the hook is enabled again.

Which due delivery is claimed when is the dispatcher's (hooks/dispatcher.py): it claims
each on its attempt pool right before making it, only if the claim (the attempt's timeout
and its recording) ends before the function's deadline (`fits`)."""

import logging

from pynamodb.exceptions import DoesNotExist

from activity import deliveries
from events.lifecycle import Transition
from events.selectors import event_get
from hooks import lifecycle, vault
from hooks.attempt import attempt_deliver
from hooks.fanout import LOGGER, Claim, event_body, hook_active_check
from hooks.models import FAILED, PENDING, Delivery, Hook
from hooks.outcomes import Outcome, due_again, hook_after, lapse_record, outcome_record
from triggerapi import store, writes
from triggerapi.exceptions import write_unavailable
from triggerapi.store import ConditionFailed, StoreUnavailable, TransactionCanceled, now_ms

log = logging.getLogger(LOGGER)

HOOK_DELETED = "The hook was deleted."
EVENT_GONE = "The event no longer exists (deleted or expired)."
EVENT_UNREADABLE = "The event could not be read: the store did not answer."
SECRET_UNREADABLE = "The hook's secret cannot be opened with this SECRET_KEY or its fallbacks."


def secrets_of(hook: Hook, now: int) -> list[str]:
    """The current secret first; during a rotation the previous one too (24 h)."""
    secrets = [vault.unseal(hook.secret)]
    if hook.previous_secret and (hook.previous_secret_until or 0) > now:
        secrets.append(vault.unseal(hook.previous_secret))
    return secrets


def fits(deadline_ms: int | None) -> bool:
    """An attempt claimed now ends (its claim runs out) before the deadline."""
    return deadline_ms is None or now_ms() + lifecycle.claim_ms() <= deadline_ms


def attempt_make(claim: Claim) -> Outcome:
    """Makes the claimed attempt (reading the event first on a retry, unless the delivery
    carries its body: an event about the tenant's integration, hooks/notices.py). An event
    or secret that cannot be read is an attempt not made, with the reason."""
    hook, delivery = claim.hook, claim.delivery
    claim.body = claim.body or delivery.body
    if claim.body is None:
        try:
            event = event_get(tenant_id=hook.tenant_id, event_id=delivery.event_id)
        except StoreUnavailable:
            return Outcome(claim, None, EVENT_UNREADABLE)
        if event is None:
            return Outcome(claim, None, EVENT_GONE, final=True)
        claim.body = event_body(event)
    try:
        secrets = secrets_of(hook, now_ms())
    except ValueError:
        log.warning("hook secret unreadable", extra={"hook_id": hook.hook_id, "event_id": delivery.event_id})
        return Outcome(claim, None, SECRET_UNREADABLE)
    result = attempt_deliver(
        target_url=hook.target_url,
        event_id=delivery.event_id,
        body=claim.body,
        secrets=secrets,
        attempt=lifecycle.attempt_number(delivery),
    )
    log.info(
        "delivery attempt",
        extra={
            "hook_id": hook.hook_id,
            "event_id": delivery.event_id,
            "status_code": result.status_code,
            "outcome": result.outcome,
            "duration_ms": result.duration_ms,
        },
    )
    return Outcome(claim, result)


def attempt(claim: Claim) -> Delivery | None:
    """Makes the claimed attempt and records its outcome at once: the delivery as it ends,
    or None if the claim was lost meanwhile (it ran out and another process took it)."""
    outcome = attempt_make(claim)
    settled = outcome_record(outcome)
    if outcome.result is not None:
        hook_after(claim.hook, outcome.result)
    return settled


def _apply(pk: str, event_id: str, transition: Transition) -> Delivery | None:
    """The delivery after a transition; None if its condition no longer holds."""
    try:
        item = writes.update(
            Delivery, pk, event_id, actions=transition.actions, condition=transition.condition, token=None
        )
    except ConditionFailed:
        return None
    return Delivery.from_raw_data(item)


def _hook(hooks: dict, tenant_id: str, hook_id: str) -> Hook | None:
    if (tenant_id, hook_id) not in hooks:
        try:
            hooks[(tenant_id, hook_id)] = store.call(
                lambda: Hook.get(tenant_id, Hook.key_for(hook_id), consistent_read=True), what="GetItem Hook"
            )
        except DoesNotExist:
            hooks[(tenant_id, hook_id)] = None
    return hooks[(tenant_id, hook_id)]


def claim_due(pk: str, event_id: str, due_key: str, hooks: dict) -> Claim | None:
    """Claims a due delivery found in the due-index (as read: `due_key`), counting its
    attempt. None if another process claimed it first, its claim ran out and its next
    attempt is not due yet (or there is none: it failed), or its hook is gone (the delivery
    then fails) or disabled (the delivery is parked until the hook is re-enabled)."""
    tenant_id, hook_id = pk.removeprefix("dlv#").rsplit("#", 1)
    hook = _hook(hooks, tenant_id, hook_id)
    now = now_ms()
    if hook is None:
        _apply(pk, event_id, lifecycle.end(due_key=due_key, error=HOOK_DELETED))
        return None
    token = writes.new_token()
    claim = lifecycle.claim(pk, event_id, due_key=due_key, now=now, attempt_id=token)
    update = writes.tx_update(Delivery, pk, event_id, actions=claim.actions, condition=claim.condition, token=token)
    try:
        writes.transact(Delivery, [update, hook_active_check(hook)], token=token)
    except TransactionCanceled as exc:
        return _not_claimed(exc, pk, event_id, due_key, hooks, now)
    delivery = store.call(lambda: Delivery.get(pk, event_id, consistent_read=True), what="GetItem Delivery")
    if delivery.attempt_id != token:
        return None
    return Claim(hook, delivery)


def claim_new(hook: Hook, delivery: Delivery, body: str) -> Claim | None:
    """Claims a delivery fan-out just created (as `delivery`, due now), counting its first
    attempt: the same conditional write as `claim_due`, with nothing read back. None if it
    was claimed first elsewhere or its hook is no longer active (a round then deals with it
    as with any due delivery)."""
    token = writes.new_token()
    now = now_ms()
    claim = lifecycle.claim(delivery.pk, delivery.event_id, due_key=delivery.due_key, now=now, attempt_id=token)
    update = writes.tx_update(
        Delivery, delivery.pk, delivery.event_id, actions=claim.actions, condition=claim.condition, token=token
    )
    try:
        writes.transact(Delivery, [update, hook_active_check(hook)], token=token)
    except TransactionCanceled:
        return None
    return Claim(hook, lifecycle.claimed_copy(delivery, now=now, attempt_id=token), body)


def _not_claimed(exc: TransactionCanceled, pk: str, event_id: str, due_key: str, hooks: dict, now: int):
    """After a claim was refused: a claim that ran out is lapsed (and the delivery claimed
    now if its next attempt is due already); a hook gone or disabled ends or parks it."""
    tenant_id, hook_id = pk.removeprefix("dlv#").rsplit("#", 1)
    found = Delivery.from_raw_data(exc.items[0]) if exc.items[0] else None
    if exc.failed[0]:
        ran_out = found is not None and found.attempt_id and (found.attempt_until or 0) <= now
        if ran_out and found.status == PENDING and found.due_key == due_key:
            lapsed = lapse_record(found)
            if lapsed is not None and lapsed.due_key and lapsed.next_attempt_at <= now:
                return claim_due(pk, event_id, lapsed.due_key, hooks)
            if lapsed is not None and lapsed.due_key:
                due_again(lapsed)
        return None
    if exc.failed[1]:
        hook = Hook.from_raw_data(exc.items[1]) if exc.items[1] else None
        hooks[(tenant_id, hook_id)] = hook
        transition = (
            lifecycle.end(due_key=due_key, error=HOOK_DELETED)
            if hook is None
            else lifecycle.park(due_key=due_key, now=now)
        )
        _apply(pk, event_id, transition)
    return None


class DeliveryNotRetryable(Exception):
    def __init__(self, status: str | None):
        self.status = status


def delivery_retry(hook: Hook, delivery: Delivery) -> Delivery:
    """Attempts a failed delivery again now, counting the attempt in its claim; its schedule
    restarts (attempts before this one stop counting towards it). DeliveryNotRetryable
    unless it is failed and the hook active."""
    if delivery.status != FAILED:
        raise DeliveryNotRetryable(delivery.status)
    token = writes.new_token()
    retry = lifecycle.retry(delivery, now=now_ms(), attempt_id=token)
    update = writes.tx_update(
        Delivery, delivery.pk, delivery.event_id, actions=retry.actions, condition=retry.condition, token=token
    )
    try:
        writes.transact(Delivery, [update, hook_active_check(hook)], token=token)
    except TransactionCanceled as exc:
        if exc.uncertain:  # an earlier attempt may have been applied, and things changed since
            raise write_unavailable(maybe_applied=True) from None
        if exc.failed[1]:
            raise DeliveryNotRetryable(None) from None
        current = Delivery.from_raw_data(exc.items[0]) if exc.items[0] else None
        raise DeliveryNotRetryable(current.status if current else FAILED) from None
    delivery.status, delivery.schedule_base, delivery.attempt_id = PENDING, delivery.attempts, token
    delivery.attempts += 1
    deliveries.delivery_owed(tenant_id=hook.tenant_id, hook_id=hook.hook_id)
    try:
        settled = attempt(Claim(hook, delivery))
        if settled is None:
            settled = store.call(
                lambda: Delivery.get(delivery.pk, delivery.event_id, consistent_read=True), what="GetItem"
            )
    except StoreUnavailable:
        # The retry is in the store and its attempt counted; if the outcome is not, the
        # claim runs out and the delivery goes on with its schedule.
        raise write_unavailable(maybe_applied=True) from None
    finally:
        deliveries.flush()
    return settled
