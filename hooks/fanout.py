"""Fan-out: a new event becomes one delivery per matching active hook, due at once, and its
hook's lane is marked ready (hooks/lanes.py); the dispatcher (hooks/dispatcher.py) claims and
makes the attempts, so fan-out never waits on a receiver; hooks/outcomes.py records them.

A delivery is a small state machine in one item (hooks/lifecycle.py builds every write of it):

    pending --attempt 2xx--> succeeded
    pending --attempt fails, attempts left--> pending (due again at next_attempt_at)
    pending --attempt fails, none left, or 410--> failed
    failed --manual retry--> pending (its schedule restarts)

An attempt starts only after a claim: a transaction that gives the delivery a fresh
`attempt_id`, counts the attempt (moving its due-index key to when the claim runs out) and
checks that the hook is active. Two processes can therefore never attempt a delivery at
once, no attempt starts once a hook is deleted or disabled, and a process that dies
mid-attempt leaves a claim that runs out, after which the delivery is due again with that
attempt counted as failed."""

import contextvars
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from events.models import Event
from events.serializers import EventSerializer
from hooks import lifecycle
from hooks.attempt import body_encode
from hooks.models import ACTIVE, Delivery, Hook
from triggerapi import thaw, writes
from triggerapi.store import TransactionCanceled, now_ms

# The delivery modules log under the one name their lines have always had.
LOGGER = "hooks.deliveries"
# First attempts and due retries run side by side: a slow receiver does not hold the others.
ATTEMPT_WORKERS = 32
_pool = thaw.Pool(workers=ATTEMPT_WORKERS, name="attempt")
# DynamoDB's limit on a transaction's items.
TRANSACTION_ITEMS = 100


def in_parallel(fn: Callable, items: Iterable) -> list:
    """`fn` over `items` on the attempt pool; results (or the exception raised) in order."""
    futures = [_pool.submit(contextvars.copy_context().run, fn, item) for item in items]
    return [future.exception() or future.result() for future in futures]


def matches(hook: Hook, event: Event) -> bool:
    """Events created after the hook, of its types (none listed: every type)."""
    if event.created_at < hook.created_at:
        return False
    return not hook.event_types or event.event_type in hook.event_types


def event_body(event: Event) -> str:
    return body_encode(EventSerializer(event).data)


def hook_active_check(hook: Hook) -> dict:
    """The check every claiming transaction carries: no attempt for a hook not active."""
    return writes.tx_check(Hook, hook.tenant_id, hook.sk, condition=Hook.status == ACTIVE)


@dataclass
class Claim:
    """A delivery this process may attempt now."""

    hook: Hook
    delivery: Delivery
    body: str | None = field(default=None)


def deliver_new(hook: Hook, event: Event) -> Delivery | None:
    """Creates the delivery of `event` to `hook`, due now; None when it exists already (a
    stream record handed over again) or the hook is no longer active."""
    delivery = lifecycle.new(hook, event, now=now_ms())
    token = writes.new_token()
    try:
        writes.transact(
            Delivery,
            [writes.tx_put(delivery, Delivery.pk.does_not_exist(), token=token), hook_active_check(hook)],
            token=token,
        )
    except TransactionCanceled:
        return None
    return delivery


def deliver_new_many(pairs: list[tuple[Hook, Event]]) -> list[Delivery]:
    """deliver_new for many (hook, event) pairs, in transactions of up to TRANSACTION_ITEMS
    items (the deliveries, and one check per hook that it is active): one store call where
    there would be one per delivery. A canceled transaction (a delivery that exists: the
    record was handed over before, or another reader made it; a hook no longer active) is
    done again without the pairs it names (pair by pair if its answer came late and an
    earlier try may have been applied). The deliveries made; StoreUnavailable if the store
    fails."""
    created: list[Delivery] = []
    chunk: list[tuple[Hook, Event]] = []
    hooks_in_chunk: set[str] = set()

    def flush() -> None:
        pending = list(chunk)
        while len(pending) > 1:
            pending = _made_or_left(pending, created)
        if pending:
            delivery = deliver_new(*pending[0])
            created.extend([delivery] if delivery else [])

    def _made_or_left(pending: list[tuple[Hook, Event]], created: list[Delivery]) -> list:
        """One transaction for `pending`: the pairs to try again (none if it was applied)."""
        now = now_ms()
        made = [lifecycle.new(hook, event, now=now) for hook, event in pending]
        token = writes.new_token()
        checks = {hook.hook_id: hook_active_check(hook) for hook, _ in pending}
        items = [writes.tx_put(delivery, Delivery.pk.does_not_exist(), token=token) for delivery in made]
        try:
            writes.transact(Delivery, [*items, *checks.values()], token=token)
            created.extend(made)
            return []
        except TransactionCanceled as exc:
            if not exc.uncertain and len(exc.failed) == len(items) + len(checks):
                inactive = {hook_id for hook_id, failed in zip(checks, exc.failed[len(items) :], strict=True) if failed}
                left = [
                    pair
                    for pair, failed in zip(pending, exc.failed[: len(items)], strict=True)
                    if not failed and pair[0].hook_id not in inactive
                ]
                if len(left) < len(pending):
                    return left
            for outcome in in_parallel(lambda pair: deliver_new(*pair), pending):
                if isinstance(outcome, BaseException):
                    raise outcome from None
                if outcome is not None:
                    created.append(outcome)
            return []

    for hook, event in pairs:
        if len(chunk) + len(hooks_in_chunk | {hook.hook_id}) > TRANSACTION_ITEMS - 1:
            flush()
            chunk, hooks_in_chunk = [], set()
        chunk.append((hook, event))
        hooks_in_chunk.add(hook.hook_id)
    flush()
    return created
