"""What an attempt leads to: the delivery's outcome, the hook's failure streak, disabling
the hook, and its parked deliveries resumed once it is enabled again.

An outcome is written on condition that the claim is still the one the attempt held, so a
delivery never ends both `succeeded` and `failed`."""

import logging
from dataclasses import dataclass

from hooks import schedule
from hooks.attempt import AttemptResult
from hooks.fanout import LOGGER, TRANSACTION_ITEMS, Claim
from hooks.models import (
    ACTIVE,
    DISABLED,
    FAILED,
    FAILING,
    GONE,
    PENDING,
    SUCCEEDED,
    Delivery,
    Hook,
    due_key_for,
    due_shard_for,
)
from triggerapi import store, writes
from triggerapi.store import ConditionFailed, StoreUnavailable, TransactionCanceled, now_ms

log = logging.getLogger(LOGGER)


@dataclass
class Outcome:
    """A claimed attempt's result (None when no attempt could be made: `error` says why)."""

    claim: Claim
    result: AttemptResult | None
    error: str | None = None


def _outcome_update(outcome: Outcome) -> dict:
    """The conditional update that records an attempt: only while the claim is this one."""
    claim, result = outcome.claim, outcome.result
    delivery = claim.delivery
    decided = result.outcome if result else schedule.FAILED
    actions = [
        Delivery.attempts.add(1 if result else 0),
        Delivery.attempt_id.remove(),
        Delivery.attempt_until.remove(),
    ]
    status_code = result.status_code if result else None
    error = result.error if result else outcome.error
    actions.append(
        Delivery.last_status_code.set(status_code) if status_code is not None else Delivery.last_status_code.remove()
    )
    actions.append(Delivery.last_error.set(error) if error else Delivery.last_error.remove())
    if decided == schedule.RETRY:
        actions += [
            Delivery.next_attempt_at.set(result.next_attempt_at),
            Delivery.due_key.set(due_key_for(result.next_attempt_at, delivery.pk, delivery.event_id)),
        ]
    else:
        actions += [Delivery.next_attempt_at.remove(), Delivery.due_shard.remove(), Delivery.due_key.remove()]
        if decided == schedule.SUCCEEDED:
            actions += [
                Delivery.status.set(SUCCEEDED),
                Delivery.succeeded_at.set(result.attempted_at + result.duration_ms),
            ]
        else:
            actions.append(Delivery.status.set(FAILED))
    return {
        "actions": actions,
        "condition": (Delivery.attempt_id == delivery.attempt_id) & (Delivery.status == PENDING),
    }


def outcome_record(outcome: Outcome) -> Delivery | None:
    """The delivery as the outcome leaves it; None if the claim was lost meanwhile."""
    delivery = outcome.claim.delivery
    token = writes.new_token()
    try:
        item = writes.update(Delivery, delivery.pk, delivery.event_id, token=token, **_outcome_update(outcome))
    except ConditionFailed:
        log.warning("delivery claim lost", extra={"hook_id": delivery.hook_id, "event_id": delivery.event_id})
        return None
    return Delivery.from_raw_data(item)


def outcomes_record(outcomes: list[Outcome]) -> None:
    """Records outcomes in transactions of up to TRANSACTION_ITEMS (one store call where
    there would be one per delivery); if one is canceled (a claim lost meanwhile), each of
    its outcomes is recorded alone. A failure is logged: the claims then run out and the
    deliveries are attempted again."""
    for start in range(0, len(outcomes), TRANSACTION_ITEMS):
        chunk = outcomes[start : start + TRANSACTION_ITEMS]
        token = writes.new_token()
        items = [
            writes.tx_update(
                Delivery, o.claim.delivery.pk, o.claim.delivery.event_id, token=token, **_outcome_update(o)
            )
            for o in chunk
        ]
        try:
            if len(chunk) == 1:
                raise TransactionCanceled([None], uncertain=False)
            writes.transact(Delivery, items, token=token)
        except TransactionCanceled:
            for outcome in chunk:
                try:
                    outcome_record(outcome)
                except StoreUnavailable as exc:
                    log.warning("delivery attempt not recorded", extra={"error": str(exc)})
        except StoreUnavailable as exc:
            log.warning("delivery attempts not recorded", extra={"error": str(exc), "count": len(chunk)})


def hook_after(hook: Hook, result: AttemptResult) -> None:
    """410 disables the hook (`gone`); a success ends its failure streak; a failure starts
    one, or disables the hook (`failing`) once it has lasted 5 days. Writes happen only
    when something changes."""
    now = now_ms()
    try:
        if result.outcome == schedule.GONE:
            _disable(hook, GONE, now)
        elif result.succeeded:
            if hook.failing_since is not None:
                writes.update(
                    Hook,
                    hook.tenant_id,
                    hook.sk,
                    actions=[Hook.failing_since.remove()],
                    condition=Hook.sk.exists(),
                    token=None,
                    return_item=False,
                )
        elif hook.failing_since is None:
            writes.update(
                Hook,
                hook.tenant_id,
                hook.sk,
                actions=[Hook.failing_since.set(Hook.failing_since | result.attempted_at)],
                condition=Hook.sk.exists(),
                token=None,
                return_item=False,
            )
            hook.failing_since = hook.failing_since or result.attempted_at
        elif schedule.hook_is_failing(failing_since=hook.failing_since, now=now):
            _disable(hook, FAILING, now, condition=Hook.failing_since == hook.failing_since)
    except (ConditionFailed, StoreUnavailable) as exc:
        # The hook was deleted or changed meanwhile, or the store is down: the streak is
        # brought up to date by the next attempt.
        log.warning("hook not updated after an attempt", extra={"hook_id": hook.hook_id, "error": type(exc).__name__})


def _disable(hook: Hook, reason: str, now: int, condition=None) -> None:
    condition = (Hook.status == ACTIVE) & (condition if condition is not None else Hook.sk.exists())
    writes.update(
        Hook,
        hook.tenant_id,
        hook.sk,
        actions=[Hook.status.set(DISABLED), Hook.disabled_reason.set(reason), Hook.updated_at.set(now)],
        condition=condition,
        token=None,
        return_item=False,
    )
    hook.status = DISABLED


def resume(hook: Hook) -> int:
    """A re-enabled hook's parked deliveries go back on their schedule."""
    pk = Delivery.pk_for(hook.tenant_id, hook.hook_id)

    def read():
        return list(
            Delivery.query(
                pk, filter_condition=(Delivery.status == PENDING) & Delivery.parked_at.exists(), consistent_read=True
            )
        )

    resumed = 0
    now = now_ms()
    for delivery in store.call(read, what="Query parked deliveries"):
        due_at = max(delivery.next_attempt_at or now, now)
        try:
            writes.update(
                Delivery,
                pk,
                delivery.event_id,
                actions=[
                    Delivery.parked_at.remove(),
                    Delivery.due_shard.set(due_shard_for(delivery.event_id)),
                    Delivery.due_key.set(due_key_for(due_at, pk, delivery.event_id)),
                    Delivery.next_attempt_at.set(due_at),
                ],
                condition=Delivery.parked_at.exists(),
                token=None,
                return_item=False,
            )
            resumed += 1
        except ConditionFailed:
            pass
    return resumed
