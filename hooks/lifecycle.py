"""A delivery's state machine, in one place: what each state means for the attributes that
put the delivery in the due-index, hold its claim, count its attempts and say its outcome.
Every transition (create, claim, settle, lapse, end, park, resume, manual retry) is built
here and nothing else writes these attributes, so no site can leave a delivery due forever,
claimed with no attempt able to run, or never due again.

  state              due keys (due_shard, due_key)       claim (attempt_id, attempt_until)   next_attempt_at
  pending, claimed   due_key = when the claim runs out   set: an attempt may run             as it was
  pending, waiting   due_key = next_attempt_at           none                                set
  pending, parked    none (parked_at set)                none                                as it was
  succeeded          none                                none                                none (succeeded_at set)
  failed             none                                none                                none

`attempts` counts claims: an attempt counts when it starts, in the claim's own write, and
never decreases. `schedule_base` is the attempts made before a manual retry restarted the
schedule, so the attempt in hand is number `attempts - schedule_base` of the schedule.
A claim that runs out before its attempt is recorded (the process died, the function was
stopped) leaves the delivery due at the claim's end; whoever finds it due then `lapse`s it:
that attempt failed, and the next comes on the schedule counted from the claim's end, or
the delivery ends `failed` if it was the last.

The writes that end an attempt (settle, lapse) also record it (hooks/attempts.py) in the
same transaction, which returns no item: `settled_copy` says what they leave of the
delivery, as `claimed_copy` does for a claim."""

import random
from dataclasses import dataclass

from django.conf import settings

from events.lifecycle import Transition
from events.models import Event
from hooks import schedule
from hooks.models import FAILED, PENDING, SUCCEEDED, Delivery, Hook, due_key_for, due_shard_for

CLAIM_ATTRIBUTES = (Delivery.attempt_id, Delivery.attempt_until)
DUE_ATTRIBUTES = (Delivery.due_shard, Delivery.due_key)
# What the store may take to record an attempt, beside the attempt itself: a store call's
# worst case is about 3 s (STORE_READ_TIMEOUT_SECONDS).
RECORDING_MS = 5_000
NOT_FINISHED = "The attempt did not finish: the process making it stopped before its outcome was recorded."


def claim_ms() -> int:
    """How long a claim lasts: the attempt's timeout, plus time to record it. A process that
    dies mid-attempt delays that delivery's next attempt by this much."""
    return int(settings.HOOKS_TIMEOUT_SECONDS * 1000) + RECORDING_MS


def attempt_number(delivery: Delivery) -> int:
    """The claimed attempt's number on the schedule (1-based)."""
    return delivery.attempts - delivery.schedule_base


def _removed(*attributes) -> list:
    return [attribute.remove() for attribute in attributes]


def _claimed(pk: str, event_id: str, *, now: int, attempt_id: str) -> list:
    attempt_until = now + claim_ms()
    return [
        Delivery.attempts.add(1),
        Delivery.attempt_id.set(attempt_id),
        Delivery.attempt_until.set(attempt_until),
        Delivery.due_shard.set(due_shard_for(pk)),
        Delivery.due_key.set(due_key_for(attempt_until, pk, event_id)),
    ]


def _due(pk: str, event_id: str, due_at: int) -> list:
    return [
        Delivery.next_attempt_at.set(due_at),
        Delivery.due_shard.set(due_shard_for(pk)),
        Delivery.due_key.set(due_key_for(due_at, pk, event_id)),
    ]


def new(hook: Hook, event: Event, *, now: int) -> Delivery:
    """The delivery of `event` to `hook`, due now for the dispatcher to claim (fan-out never
    attempts: a receiver must not hold up the stream)."""
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
        created_at=now,
        expires_at=event.expires_at,
        due_shard=due_shard_for(pk),
        due_key=due_key_for(now, pk, event.event_id),
    )


def notice(hook: Hook, event: Event, *, body: str, now: int) -> Delivery:
    """The delivery of an event about the tenant's own integration (hooks/notices.py), due
    now as `new`'s: it carries the body it sends, since no events-table row holds it."""
    delivery = new(hook, event, now=now)
    delivery.body = body
    return delivery


def claim(pk: str, event_id: str, *, due_key: str, now: int, attempt_id: str) -> Transition:
    """The next attempt of a delivery found due (as read: `due_key`) and claimed by no one:
    one held by a claim that ran out is `lapse`d first."""
    return Transition(
        _claimed(pk, event_id, now=now, attempt_id=attempt_id),
        (Delivery.due_key == due_key) & (Delivery.status == PENDING) & Delivery.attempt_id.does_not_exist(),
    )


def claimed_copy(delivery: Delivery, *, now: int, attempt_id: str) -> Delivery:
    """What `claim`'s write leaves of `delivery` as it was read, so that a claim of a
    delivery known whole (fan-out just created it) need not read it back."""
    attempt_until = now + claim_ms()
    copy = Delivery.from_raw_data(delivery.serialize())
    copy.attempts = delivery.attempts + 1
    copy.attempt_id, copy.attempt_until = attempt_id, attempt_until
    copy.due_shard = due_shard_for(delivery.pk)
    copy.due_key = due_key_for(attempt_until, delivery.pk, delivery.event_id)
    return copy


def retry(delivery: Delivery, *, now: int, attempt_id: str) -> Transition:
    """A failed delivery claimed again at once, its schedule restarting from this attempt."""
    return Transition(
        [
            Delivery.status.set(PENDING),
            Delivery.schedule_base.set(delivery.attempts),
            Delivery.next_attempt_at.set(now),
            *_claimed(delivery.pk, delivery.event_id, now=now, attempt_id=attempt_id),
        ],
        (Delivery.status == FAILED) & (Delivery.attempts == delivery.attempts),
    )


@dataclass(frozen=True)
class Ending:
    """How an attempt ended: the schedule's decision (`outcome`: succeeded, retry, failed,
    gone; `next_attempt_at` for a retry), the receiver's status code or why none came, and
    when it ended (epoch ms)."""

    outcome: str
    status_code: int | None
    error: str | None
    next_attempt_at: int | None
    ended_at: int


def settle(claimed: Delivery, ending: Ending) -> Transition:
    """An attempt's outcome, only while the claim is still the one the attempt held, so a
    delivery never ends both ways."""
    actions = [
        *_removed(*CLAIM_ATTRIBUTES),
        Delivery.last_status_code.set(ending.status_code)
        if ending.status_code is not None
        else Delivery.last_status_code.remove(),
        Delivery.last_error.set(ending.error) if ending.error else Delivery.last_error.remove(),
    ]
    if ending.outcome == schedule.RETRY:
        actions += _due(claimed.pk, claimed.event_id, ending.next_attempt_at)
    else:
        status = SUCCEEDED if ending.outcome == schedule.SUCCEEDED else FAILED
        actions += [Delivery.status.set(status), *_removed(Delivery.next_attempt_at, *DUE_ATTRIBUTES)]
        if status == SUCCEEDED:
            actions.append(Delivery.succeeded_at.set(ending.ended_at))
    return Transition(actions, (Delivery.attempt_id == claimed.attempt_id) & (Delivery.status == PENDING))


def settled_copy(claimed: Delivery, ending: Ending) -> Delivery:
    """What `settle`'s write (or `lapse`'s) leaves of `claimed`, the delivery as its claim
    left it: the transaction that writes it answers no item."""
    copy = Delivery.from_raw_data(claimed.serialize())
    copy.attempt_id = copy.attempt_until = None
    copy.last_status_code, copy.last_error = ending.status_code, ending.error or None
    if ending.outcome == schedule.RETRY:
        copy.next_attempt_at = ending.next_attempt_at
        copy.due_shard = due_shard_for(claimed.pk)
        copy.due_key = due_key_for(ending.next_attempt_at, claimed.pk, claimed.event_id)
    else:
        copy.status = SUCCEEDED if ending.outcome == schedule.SUCCEEDED else FAILED
        copy.next_attempt_at = copy.due_shard = copy.due_key = None
        if copy.status == SUCCEEDED:
            copy.succeeded_at = ending.ended_at
    return copy


def not_finished(found: Delivery, *, rng: random.Random | None = None) -> Ending:
    """How a claim that ran out with its attempt unrecorded ends: that attempt failed, and
    the next is due on the schedule from the claim's end (at once if that is past), or the
    delivery ends failed if it was the last."""
    decision = schedule.decide(
        attempt=max(attempt_number(found), 1), status_code=None, retry_after=None, now=found.attempt_until, rng=rng
    )
    return Ending(decision.outcome, None, NOT_FINISHED, decision.next_attempt_at, found.attempt_until)


def lapse(found: Delivery, ending: Ending) -> Transition:
    """The write a failed attempt's outcome makes (`ending`, from `not_finished`), on the
    claim as read rather than as held: only while the claim and due key are the ones read."""
    return Transition(
        settle(found, ending).actions,
        (Delivery.attempt_id == found.attempt_id) & (Delivery.due_key == found.due_key),
    )


def end(*, due_key: str, error: str) -> Transition:
    """A due delivery that can never be attempted (its hook was deleted) ends failed."""
    return Transition(
        [
            Delivery.status.set(FAILED),
            Delivery.last_error.set(error),
            *_removed(Delivery.next_attempt_at, *DUE_ATTRIBUTES, *CLAIM_ATTRIBUTES),
        ],
        (Delivery.due_key == due_key) & (Delivery.status == PENDING),
    )


def park(*, due_key: str, now: int) -> Transition:
    """A due delivery whose hook is disabled leaves the due-index until it is enabled."""
    return Transition(
        [Delivery.parked_at.set(now), *_removed(*DUE_ATTRIBUTES)],
        (Delivery.due_key == due_key) & (Delivery.status == PENDING) & Delivery.attempt_id.does_not_exist(),
    )


def resume(parked: Delivery, *, now: int) -> Transition:
    """A parked delivery back on its schedule (at once if its time has passed)."""
    due_at = max(parked.next_attempt_at or now, now)
    return Transition(
        [Delivery.parked_at.remove(), *_due(parked.pk, parked.event_id, due_at)],
        Delivery.parked_at.exists() & (Delivery.status == PENDING),
    )
