"""What an attempt leads to: the delivery's outcome, the hook's failure streak, disabling
the hook, and its parked deliveries resumed once it is enabled again.

An outcome is recorded as soon as its attempt ends (not after the others of its batch), on
condition that the claim is still the one the attempt held, so a delivery never ends both
`succeeded` and `failed` (hooks/lifecycle.py builds the write); the attempt's record
(hooks/attempts.py) is written in the same transaction, and so is the record of an attempt
whose claim ran out (`lapse_record`). A hook disabled here, and a delivery whose last
scheduled attempt failed, are told to the tenant's hooks that ask (hooks/notices.py)."""

import logging
from dataclasses import dataclass

from activity import deliveries
from events.ids import created_at_of, is_event_id
from events.lifecycle import Transition
from hooks import lanes, lifecycle, notices, schedule
from hooks.attempt import AttemptResult
from hooks.attempts import NEW, Attempt, attempt_item
from hooks.fanout import LOGGER, Claim
from hooks.models import ACTIVE, DISABLED, FAILING, GONE, PENDING, Delivery, Hook
from hooks.tally import TALLY
from triggerapi import metrics, store, writes
from triggerapi.store import ConditionFailed, StoreUnavailable, TransactionCanceled, now_ms

log = logging.getLogger(LOGGER)


@dataclass
class Outcome:
    """A claimed attempt's result, or None when the attempt could not be made (the event or
    the hook's secret unreadable): `error` says why, and `final` that no later attempt can
    do better (the event is gone), so the delivery fails at once instead of on the schedule."""

    claim: Claim
    result: AttemptResult | None
    error: str | None = None
    final: bool = False


# An attempt that could not be made (no receiver saw it), as the DeliveryAttempts metric says.
NOT_MADE = "not_made"


def measure(outcome: Outcome) -> None:
    """The attempt in the operator's metrics: its outcome, and for a success how long after
    its event's ingest the receiver had it (read from the event's id, which never fails the
    outcome's record: an id that is not an event's has no latency)."""
    delivery, result = outcome.claim.delivery, outcome.result
    where = {"tenant": delivery.tenant_id, "hook": delivery.hook_id}
    metrics.count("DeliveryAttempts", **where, outcome=NOT_MADE if result is None else result.outcome)
    if result is not None and result.succeeded and is_event_id(delivery.event_id):
        ended = result.attempted_at + result.duration_ms
        metrics.observe("DeliveryLatency", max(0, ended - created_at_of(delivery.event_id)), **where)


def _ending(outcome: Outcome) -> lifecycle.Ending:
    result = outcome.result
    if result is not None:
        ended_at = result.attempted_at + result.duration_ms
        return lifecycle.Ending(result.outcome, result.status_code, result.error, result.next_attempt_at, ended_at)
    now = now_ms()
    decision = (
        schedule.Decision(schedule.FAILED)
        if outcome.final
        else schedule.decide(
            attempt=lifecycle.attempt_number(outcome.claim.delivery), status_code=None, retry_after=None, now=now
        )
    )
    return lifecycle.Ending(decision.outcome, None, outcome.error, decision.next_attempt_at, now)


def _record(outcome: Outcome, ending: lifecycle.Ending) -> Attempt:
    """The attempt as it went; one not made (`result` None) still counts, lasting nothing."""
    result = outcome.result
    return attempt_item(
        outcome.claim.delivery,
        started_at=result.attempted_at if result else ending.ended_at,
        duration_ms=result.duration_ms if result else 0,
        status_code=ending.status_code,
        error=ending.error,
        body=result.body if result else b"",
        outcome=ending.outcome,
    )


def outcome_record(outcome: Outcome) -> Delivery | None:
    """The delivery as the outcome leaves it, the attempt recorded with it; None if the
    claim was lost meanwhile (it ran out and another process took the delivery): the POST
    was made all the same, so its record replaces the "did not finish" the other process
    wrote for it. StoreUnavailable if the store fails: the claim then runs out and the
    attempt counts as one that did not finish."""
    TALLY.count(outcome)
    measure(outcome)
    delivery = outcome.claim.delivery
    ending = _ending(outcome)
    record = _record(outcome, ending)
    if not _settle_recorded(delivery, lifecycle.settle(delivery, ending), record):
        log.warning("delivery claim lost", extra={"hook_id": delivery.hook_id, "event_id": delivery.event_id})
        _record_late(record)
        return None
    settled = lifecycle.settled_copy(delivery, ending)
    if settled.status == PENDING and settled.due_key:
        due_again(settled)
    deliveries.attempt_counted(settled, succeeded=outcome.result is not None and outcome.result.succeeded)
    notices.delivery_ended(settled, ending, body=outcome.claim.body)
    return settled


def lapse_record(found: Delivery) -> Delivery | None:
    """A claim that ran out with its attempt unrecorded (`found` as read), lapsed
    (hooks/lifecycle.py) and its attempt recorded as one that did not finish, lasting the
    whole claim; None if the claim is no longer the one read (another process lapsed it, or
    the attempt's outcome came in)."""
    ending = lifecycle.not_finished(found)
    claim_ms = lifecycle.claim_ms()
    record = attempt_item(
        found,
        started_at=found.attempt_until - claim_ms,
        duration_ms=claim_ms,
        status_code=None,
        error=lifecycle.NOT_FINISHED,
        body=b"",
        outcome=ending.outcome,
    )
    if not _settle_recorded(found, lifecycle.lapse(found, ending), record):
        return None
    lapsed = lifecycle.settled_copy(found, ending)
    deliveries.attempt_counted(lapsed, succeeded=False)
    notices.delivery_ended(lapsed, ending, body=None)
    return lapsed


def _settle_recorded(delivery: Delivery, transition: Transition, record: Attempt) -> bool:
    """The delivery's transition and its attempt's record in one transaction: False if the
    delivery's condition failed (its claim is not the one read). A record of that attempt
    found there already cannot keep the delivery claimed: the transition is then written
    alone."""
    token = writes.new_token()
    pk, event_id = delivery.pk, delivery.event_id
    update = writes.tx_update(
        Delivery, pk, event_id, actions=transition.actions, condition=transition.condition, token=token
    )
    try:
        writes.transact(Delivery, [update, writes.tx_put(record, NEW, token=token)], token=token)
    except TransactionCanceled as exc:
        if exc.failed[0]:
            return False
        log.warning("attempt recorded already", extra={"hook_id": delivery.hook_id, "event_id": event_id})
        try:
            writes.update(
                Delivery,
                pk,
                event_id,
                actions=transition.actions,
                condition=transition.condition,
                token=writes.new_token(),
                return_item=False,
            )
        except ConditionFailed:
            return False
    return True


def _record_late(record: Attempt) -> None:
    """The record of an attempt whose claim was lost, in place of the "did not finish" the
    process that lapsed the claim wrote for it (or of none). Best effort: the delivery went
    on without it."""
    try:
        writes.put(record, condition=NEW | (Attempt.error == lifecycle.NOT_FINISHED), token=writes.new_token())
    except (ConditionFailed, StoreUnavailable) as exc:
        log.warning("late attempt not recorded", extra={"hook_id": record.hook_id, "error": type(exc).__name__})


def due_again(delivery: Delivery) -> None:
    """The delivery's hook has work again at its next attempt: its lane says so. If the store
    does not take that, the lane is ready anyway when the claim the turn made runs out."""
    try:
        lanes.lane_notify(tenant_id=delivery.tenant_id, hook_id=delivery.hook_id, due_ms=delivery.next_attempt_at)
    except StoreUnavailable as exc:
        log.warning("lane not woken for a retry", extra={"hook_id": delivery.hook_id, "error": str(exc)})


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
                hook.failing_since = None
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
    """Only while the hook is active, so of the attempts that find it gone or failing one
    disables it, and tells the tenant (hooks/notices.py); with a token, so that a retry of
    that write whose first answer was lost is still the one that did it."""
    condition = (Hook.status == ACTIVE) & (condition if condition is not None else Hook.sk.exists())
    writes.update(
        Hook,
        hook.tenant_id,
        hook.sk,
        actions=[Hook.status.set(DISABLED), Hook.disabled_reason.set(reason), Hook.updated_at.set(now)],
        condition=condition,
        token=writes.new_token(),
        return_item=False,
    )
    hook.status = DISABLED
    notices.hook_disabled(hook, reason)


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
        transition = lifecycle.resume(delivery, now=now)
        try:
            writes.update(
                Delivery,
                pk,
                delivery.event_id,
                actions=transition.actions,
                condition=transition.condition,
                token=None,
                return_item=False,
            )
            resumed += 1
        except ConditionFailed:
            pass
    if resumed:
        lanes.lane_notify(tenant_id=hook.tenant_id, hook_id=hook.hook_id, due_ms=now)
    return resumed
