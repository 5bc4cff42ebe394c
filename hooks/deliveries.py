"""Deliveries: one per (hook, event), each a small state machine in one item.

    pending --attempt 2xx--> succeeded
    pending --attempt fails, attempts left--> pending (due again at next_attempt_at)
    pending --attempt fails, none left, or 410--> failed
    failed --manual retry--> pending (its schedule restarts)

An attempt starts only after a claim: one transaction that gives the delivery a fresh
`attempt_id` (moving its due-index key to when the claim runs out) on condition that it is
still due as read, and checks that the hook is active. Two processes can therefore never
attempt a delivery at once, no attempt starts once a hook is deleted or disabled, and a
process that dies mid-attempt leaves a claim that runs out, after which the delivery is
due again. The outcome is written on condition that the claim is still the one this
attempt holds, so a delivery never ends both `succeeded` and `failed`."""

import contextvars
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from events.models import Event
from events.selectors import event_get
from events.serializers import EventSerializer
from hooks import schedule, vault
from hooks.attempt import AttemptResult, attempt_deliver, body_encode
from hooks.models import (
    ACTIVE,
    DISABLED,
    DUE_SHARDS,
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
from triggerapi.exceptions import write_unavailable
from triggerapi.store import ConditionFailed, StoreUnavailable, TransactionCanceled, now_ms

log = logging.getLogger(__name__)

# First attempts and due retries run side by side: a slow receiver does not hold the others.
_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="attempt")
DUE_PAGE = 100
# DynamoDB's limit on a transaction's items.
TRANSACTION_ITEMS = 100


def claim_ms() -> int:
    """How long an attempt's claim lasts: the attempt's timeout, plus time to record it (a
    store call's worst case is about 3 s: STORE_READ_TIMEOUT_SECONDS). A process that dies
    mid-attempt delays that delivery's next attempt by this much."""
    return int((settings.HOOKS_TIMEOUT_SECONDS + 5) * 1000)


def in_parallel(fn: Callable, items: Iterable) -> list:
    """`fn` over `items` on the attempt pool; results (or the exception raised) in order."""
    futures = [_pool.submit(contextvars.copy_context().run, fn, item) for item in items]
    return [future.exception() or future.result() for future in futures]


def secrets_of(hook: Hook, now: int) -> list[str]:
    """The current secret first; during a rotation the previous one too (24 h)."""
    secrets = [vault.unseal(hook.secret)]
    if hook.previous_secret and (hook.previous_secret_until or 0) > now:
        secrets.append(vault.unseal(hook.previous_secret))
    return secrets


def matches(hook: Hook, event: Event) -> bool:
    """Events created after the hook, of its types (none listed: every type)."""
    if event.created_at < hook.created_at:
        return False
    return not hook.event_types or event.event_type in hook.event_types


def event_body(event: Event) -> str:
    return body_encode(EventSerializer(event).data)


def _hook_active(hook: Hook) -> dict:
    return writes.tx_check(Hook, hook.tenant_id, hook.sk, condition=Hook.status == ACTIVE)


@dataclass
class Claim:
    """A delivery this process may attempt now."""

    hook: Hook
    delivery: Delivery
    body: str | None = field(default=None)


def _new_delivery(hook: Hook, event: Event, now: int) -> Delivery:
    """The delivery of `event` to `hook`, claimed for its first attempt."""
    attempt_until = now + claim_ms()
    pk = Delivery.pk_for(hook.tenant_id, hook.hook_id)
    return Delivery(
        pk,
        event.event_id,
        tenant_id=hook.tenant_id,
        hook_id=hook.hook_id,
        status=PENDING,
        attempts=0,
        schedule_base=0,
        next_attempt_at=now,
        attempt_id=writes.new_token(),
        attempt_until=attempt_until,
        created_at=now,
        expires_at=event.expires_at,
        due_shard=due_shard_for(event.event_id),
        due_key=due_key_for(attempt_until, pk, event.event_id),
    )


def deliver_new(hook: Hook, event: Event) -> Claim | None:
    """Creates the delivery of `event` to `hook`, claimed for its first attempt; None when
    it exists already (a stream record handed over again) or the hook is no longer active."""
    delivery = _new_delivery(hook, event, now_ms())
    token = writes.new_token()
    try:
        writes.transact(
            Delivery,
            [writes.tx_put(delivery, Delivery.pk.does_not_exist(), token=token), _hook_active(hook)],
            token=token,
        )
    except TransactionCanceled:
        return None
    return Claim(hook, delivery, event_body(event))


def deliver_new_many(pairs: list[tuple[Hook, Event]]) -> list[Claim]:
    """deliver_new for many (hook, event) pairs, in transactions of up to TRANSACTION_ITEMS
    items (the deliveries, and one check per hook that it is active): one store call where
    there would be one per delivery. A canceled transaction (a delivery that exists, a hook
    no longer active) is done again pair by pair. StoreUnavailable if the store fails."""
    claims: list[Claim] = []
    chunk: list[tuple[Hook, Event]] = []
    hooks_in_chunk: set[str] = set()

    def flush() -> None:
        if not chunk:
            return
        if len(chunk) == 1:
            claim = deliver_new(*chunk[0])
            claims.extend([claim] if claim else [])
            return
        now = now_ms()
        made = [Claim(hook, _new_delivery(hook, event, now), event_body(event)) for hook, event in chunk]
        token = writes.new_token()
        checks = {c.hook.hook_id: _hook_active(c.hook) for c in made}
        items = [writes.tx_put(c.delivery, Delivery.pk.does_not_exist(), token=token) for c in made]
        try:
            writes.transact(Delivery, [*items, *checks.values()], token=token)
            claims.extend(made)
        except TransactionCanceled:
            for outcome in in_parallel(lambda pair: deliver_new(*pair), list(chunk)):
                if isinstance(outcome, BaseException):
                    raise outcome from None
                if outcome is not None:
                    claims.append(outcome)

    for hook, event in pairs:
        if len(chunk) + len(hooks_in_chunk | {hook.hook_id}) > TRANSACTION_ITEMS - 1:
            flush()
            chunk, hooks_in_chunk = [], set()
        chunk.append((hook, event))
        hooks_in_chunk.add(hook.hook_id)
    flush()
    return claims


@dataclass
class Outcome:
    """A claimed attempt's result (None when no attempt could be made: `error` says why)."""

    claim: Claim
    result: AttemptResult | None
    error: str | None = None


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
    settled = _settle(outcome)
    if outcome.result is not None:
        _hook_after(claim.hook, outcome.result)
    return settled


def attempts_make_and_record(claims: list[Claim]) -> None:
    """Attempts side by side, then their outcomes written together (settle_many), then
    each hook's failure streak brought up to date once."""
    outcomes = []
    for made in in_parallel(attempt_make, claims):
        if isinstance(made, BaseException):
            # The claim runs out and run_due attempts the delivery again.
            log.warning("delivery attempt failed", extra={"error": f"{type(made).__name__}: {made}"})
        else:
            outcomes.append(made)
    settle_many(outcomes)
    by_hook: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.result is not None:
            by_hook.setdefault((outcome.claim.hook.tenant_id, outcome.claim.hook.hook_id), []).append(outcome)
    for hooked in by_hook.values():
        results = [o.result for o in hooked]
        telling = next((r for r in results if r.outcome == schedule.GONE), None) or next(
            (r for r in results if r.succeeded), results[0]
        )
        _hook_after(hooked[0].claim.hook, telling)


def _settle_update(outcome: Outcome, token: str | None) -> dict:
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


def _settle(outcome: Outcome) -> Delivery | None:
    delivery = outcome.claim.delivery
    token = writes.new_token()
    try:
        item = writes.update(Delivery, delivery.pk, delivery.event_id, token=token, **_settle_update(outcome, token))
    except ConditionFailed:
        log.warning("delivery claim lost", extra={"hook_id": delivery.hook_id, "event_id": delivery.event_id})
        return None
    return Delivery.from_raw_data(item)


def settle_many(outcomes: list[Outcome]) -> None:
    """Records outcomes in transactions of up to TRANSACTION_ITEMS (one store call where
    there would be one per delivery); if one is canceled (a claim lost meanwhile), each of
    its outcomes is recorded alone. A failure is logged: the claims then run out and the
    deliveries are attempted again."""
    for start in range(0, len(outcomes), TRANSACTION_ITEMS):
        chunk = outcomes[start : start + TRANSACTION_ITEMS]
        token = writes.new_token()
        items = [
            writes.tx_update(
                Delivery, o.claim.delivery.pk, o.claim.delivery.event_id, token=token, **_settle_update(o, token)
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
                    _settle(outcome)
                except StoreUnavailable as exc:
                    log.warning("delivery attempt not recorded", extra={"error": str(exc)})
        except StoreUnavailable as exc:
            log.warning("delivery attempts not recorded", extra={"error": str(exc), "count": len(chunk)})


def _hook_after(hook: Hook, result: AttemptResult) -> None:
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
        writes.transact(Delivery, [update, _hook_active(hook)], token=token)
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
        writes.transact(Delivery, [update, _hook_active(hook)], token=token)
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
