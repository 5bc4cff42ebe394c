"""Fan-out: a new event becomes one delivery per matching active hook, created already
claimed for its first attempt (hooks/dispatch.py makes it, hooks/outcomes.py records it).

A delivery is a small state machine in one item:

    pending --attempt 2xx--> succeeded
    pending --attempt fails, attempts left--> pending (due again at next_attempt_at)
    pending --attempt fails, none left, or 410--> failed
    failed --manual retry--> pending (its schedule restarts)

An attempt starts only after a claim: a transaction that gives the delivery a fresh
`attempt_id` (moving its due-index key to when the claim runs out) and checks that the
hook is active. Two processes can therefore never attempt a delivery at once, no attempt
starts once a hook is deleted or disabled, and a process that dies mid-attempt leaves a
claim that runs out, after which the delivery is due again."""

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from events.models import Event
from events.serializers import EventSerializer
from hooks.attempt import body_encode
from hooks.models import ACTIVE, PENDING, Delivery, Hook, due_key_for, due_shard_for
from triggerapi import writes
from triggerapi.store import TransactionCanceled, now_ms

# The delivery modules log under the one name their lines have always had.
LOGGER = "hooks.deliveries"
# First attempts and due retries run side by side: a slow receiver does not hold the others.
_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="attempt")
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
            [writes.tx_put(delivery, Delivery.pk.does_not_exist(), token=token), hook_active_check(hook)],
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
        checks = {c.hook.hook_id: hook_active_check(c.hook) for c in made}
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
