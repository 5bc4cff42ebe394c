"""Dispatch: claiming due deliveries and making attempts. A delivery is due when its retry
comes, or when a claim ran out (its process died mid-attempt); it is attempted only once a
claim is won (hooks/fanout.py says why), and the outcome goes to hooks/outcomes.py. A due
delivery whose hook is disabled is parked until the hook is enabled again."""

import logging

from pynamodb.exceptions import DoesNotExist

from events.selectors import event_get
from hooks import schedule, vault
from hooks.attempt import attempt_deliver
from hooks.fanout import LOGGER, Claim, claim_ms, event_body, hook_active_check, in_parallel
from hooks.models import DUE_SHARDS, FAILED, PENDING, Delivery, Hook, due_key_for, due_shard_for
from hooks.outcomes import Outcome, hook_after, outcome_record, outcomes_record
from triggerapi import store, writes
from triggerapi.exceptions import write_unavailable
from triggerapi.store import ConditionFailed, TransactionCanceled, now_ms

log = logging.getLogger(LOGGER)

DUE_PAGE = 100


def secrets_of(hook: Hook, now: int) -> list[str]:
    """The current secret first; during a rotation the previous one too (24 h)."""
    secrets = [vault.unseal(hook.secret)]
    if hook.previous_secret and (hook.previous_secret_until or 0) > now:
        secrets.append(vault.unseal(hook.previous_secret))
    return secrets


def attempt_make(claim: Claim) -> Outcome:
    """Makes the claimed attempt (reading the event first on a retry)."""
    hook, delivery = claim.hook, claim.delivery
    if claim.body is None:
        event = event_get(tenant_id=hook.tenant_id, event_id=delivery.event_id)
        if event is None:
            return Outcome(claim, None, "The event no longer exists (deleted or expired).")
        claim.body = event_body(event)
    result = attempt_deliver(
        target_url=hook.target_url,
        event_id=delivery.event_id,
        body=claim.body,
        secrets=secrets_of(hook, now_ms()),
        attempt=delivery.attempts - delivery.schedule_base + 1,
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
    """Makes the claimed attempt and records its outcome: the delivery as it ends, or None
    if the claim was lost meanwhile (it ran out and another process took the delivery)."""
    outcome = attempt_make(claim)
    settled = outcome_record(outcome)
    if outcome.result is not None:
        hook_after(claim.hook, outcome.result)
    return settled


def attempts_make_and_record(claims: list[Claim]) -> None:
    """Attempts side by side, then their outcomes written together (outcomes_record), then
    each hook's failure streak brought up to date once."""
    outcomes = []
    for made in in_parallel(attempt_make, claims):
        if isinstance(made, BaseException):
            # The claim runs out and run_due attempts the delivery again.
            log.warning("delivery attempt failed", extra={"error": f"{type(made).__name__}: {made}"})
        else:
            outcomes.append(made)
    outcomes_record(outcomes)
    by_hook: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.result is not None:
            by_hook.setdefault((outcome.claim.hook.tenant_id, outcome.claim.hook.hook_id), []).append(outcome)
    for hooked in by_hook.values():
        results = [o.result for o in hooked]
        telling = next((r for r in results if r.outcome == schedule.GONE), None) or next(
            (r for r in results if r.succeeded), results[0]
        )
        hook_after(hooked[0].claim.hook, telling)


def claim_due(pk: str, event_id: str, due_key: str, hooks: dict) -> Claim | None:
    """Claims a due delivery found in the due-index (as read: `due_key`). None if another
    process claimed it first, or its hook is gone (the delivery then fails) or disabled
    (the delivery is parked until the hook is re-enabled)."""
    tenant_id, hook_id = pk.removeprefix("dlv#").rsplit("#", 1)
    hook = hooks.get((tenant_id, hook_id))
    if hook is None:
        try:
            hook = store.call(
                lambda: Hook.get(tenant_id, Hook.key_for(hook_id), consistent_read=True), what="GetItem Hook"
            )
        except DoesNotExist:
            hook = None
        hooks[(tenant_id, hook_id)] = hook
    now = now_ms()
    attempt_until = now + claim_ms()
    still_due = Delivery.due_key == due_key
    if hook is None:
        _unindex(
            pk, event_id, still_due, [Delivery.status.set(FAILED), Delivery.last_error.set("The hook was deleted.")]
        )
        return None
    token = writes.new_token()
    update = writes.tx_update(
        Delivery,
        pk,
        event_id,
        actions=[
            Delivery.attempt_id.set(token),
            Delivery.attempt_until.set(attempt_until),
            Delivery.due_key.set(due_key_for(attempt_until, pk, event_id)),
        ],
        condition=still_due & (Delivery.status == PENDING),
        token=token,
    )
    try:
        writes.transact(Delivery, [update, hook_active_check(hook)], token=token)
    except TransactionCanceled as exc:
        if not exc.failed[0] and exc.failed[1]:
            if exc.items[1] is None:
                hooks[(tenant_id, hook_id)] = None
                _unindex(
                    pk,
                    event_id,
                    still_due,
                    [Delivery.status.set(FAILED), Delivery.last_error.set("The hook was deleted.")],
                )
            else:
                hooks[(tenant_id, hook_id)] = Hook.from_raw_data(exc.items[1])
                _unindex(pk, event_id, still_due, [Delivery.parked_at.set(now)])
        return None
    delivery = store.call(lambda: Delivery.get(pk, event_id, consistent_read=True), what="GetItem Delivery")
    if delivery.attempt_id != token:
        return None
    return Claim(hook, delivery)


def _unindex(pk: str, event_id: str, condition, actions: list) -> None:
    try:
        writes.update(
            Delivery,
            pk,
            event_id,
            actions=[*actions, Delivery.due_shard.remove(), Delivery.due_key.remove()],
            condition=condition,
            token=None,
            return_item=False,
        )
    except ConditionFailed:
        pass


def due_now(now: int, shard: int) -> list[tuple[str, str, str]]:
    """(pk, event id, due key) of deliveries due by `now` in one shard, soonest first."""

    def read():
        return [
            (d.pk, d.event_id, d.due_key)
            for d in Delivery.due_index.query(
                f"due#{shard}", Delivery.due_key <= f"{now:013d}~", limit=DUE_PAGE, page_size=DUE_PAGE
            )
        ]

    return store.call(read, what="Query due deliveries")


def run_due(*, deadline_ms: int | None = None) -> int:
    """Attempts every delivery due now, page after page, until none is due or `deadline_ms`
    has passed. The number of attempts made."""
    attempted = 0
    hooks: dict = {}
    while True:
        now = now_ms()
        due = [entry for shard in range(DUE_SHARDS) for entry in due_now(now, shard)]
        if not due:
            return attempted
        claims = in_parallel(lambda entry: claim_due(*entry, hooks), due)
        ready = [c for c in claims if isinstance(c, Claim)]
        for error in claims:
            if isinstance(error, BaseException):
                log.warning("due delivery not claimed", extra={"error": f"{type(error).__name__}: {error}"})
        attempts_make_and_record(ready)
        attempted += len(ready)
        if len(due) < DUE_PAGE * DUE_SHARDS and not ready:
            return attempted
        if deadline_ms is not None and now_ms() >= deadline_ms:
            return attempted


class DeliveryNotRetryable(Exception):
    def __init__(self, status: str | None):
        self.status = status


def delivery_retry(hook: Hook, delivery: Delivery) -> Delivery:
    """Attempts a failed delivery again now; its schedule restarts (attempts before this
    one stop counting towards it). DeliveryNotRetryable unless it is failed and the hook
    active."""
    if delivery.status != FAILED:
        raise DeliveryNotRetryable(delivery.status)
    now = now_ms()
    attempt_until = now + claim_ms()
    token = writes.new_token()
    update = writes.tx_update(
        Delivery,
        delivery.pk,
        delivery.event_id,
        actions=[
            Delivery.status.set(PENDING),
            Delivery.schedule_base.set(delivery.attempts),
            Delivery.next_attempt_at.set(now),
            Delivery.attempt_id.set(token),
            Delivery.attempt_until.set(attempt_until),
            Delivery.due_shard.set(due_shard_for(delivery.event_id)),
            Delivery.due_key.set(due_key_for(attempt_until, delivery.pk, delivery.event_id)),
        ],
        condition=(Delivery.status == FAILED) & (Delivery.attempts == delivery.attempts),
        token=token,
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
    settled = attempt(Claim(hook, delivery))
    if settled is None:
        return store.call(lambda: Delivery.get(delivery.pk, delivery.event_id, consistent_read=True), what="GetItem")
    return settled
