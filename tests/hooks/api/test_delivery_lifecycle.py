"""Every transition of a delivery, in random order, with the invariants of hooks/lifecycle.py
checked on every stored delivery after each step: due keys present exactly while pending
and not parked, a claim only on a due delivery and due when it runs out, attempts that
never decrease nor pass the schedule, no send without a live claim (tests/hooks/api/
deliveries_stored.py), an attempt item for every attempt counted but the one in flight.
The steps: events fanned out (created due), due deliveries attempted, a claim taken by a
process that then dies, the secret unreadable, a hook disabled and enabled or deleted, a
failed delivery retried by hand, the clock moved across the schedule's delays. About 200
steps: 30 to 60 s on two shared cores."""

import uuid

import hypothesis
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from hooks import dispatch, handler, lifecycle, outcomes
from hooks.dispatch import DeliveryNotRetryable
from hooks.models import ACTIVE, DISABLED, FAILED, Delivery, Hook
from hooks.services import hook_delete, hook_update
from tests.hooks.api.deliveries_stored import (
    deliveries_of,
    due_entries,
    owed,
    problems,
    recorded,
    stream_of,
    subscribe,
)

RUNS = hypothesis.settings(
    max_examples=5,
    stateful_step_count=35,
    deadline=None,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
ANSWERS = st.sampled_from([200, 500, 500, 429, 410])
# Past a claim, and across each of the schedule's delays (±20 %).
SHIFTS_S = st.sampled_from([1, lifecycle.claim_ms() / 1000 + 1, 7, 361, 2161, 8641, 36001])


class Deliveries(RuleBasedStateMachine):
    def __init__(self, clock, fake, settings):
        super().__init__()
        self.clock, self.fake, self.settings = clock, fake, settings
        self.tenant = f"t{uuid.uuid4().hex[:10]}"
        self.hooks = [subscribe(fake, self.tenant, n) for n in range(2)]
        self.attempts: dict[str, int] = {}
        self.deleted: set[str] = set()
        self.secret_key = settings.SECRET_KEY

    @rule(events=st.integers(1, 3))
    def fan_out(self, events):
        handler.handle_stream(stream_of(self.tenant, events))

    @rule(answer=ANSWERS)
    def run_due(self, answer):
        self.fake.answer = answer
        handler.run_due()

    @rule()
    def a_claim_whose_process_dies(self):
        for entry in due_entries():
            if dispatch.claim_due(*entry, {}) is not None:
                return

    @rule(answer=ANSWERS)
    def run_due_with_the_secret_unreadable(self, answer):
        self.settings.SECRET_KEY, self.settings.SECRET_KEY_FALLBACKS = "not-the-key", []
        try:
            self.run_due(answer)
        finally:
            self.settings.SECRET_KEY = self.secret_key

    @rule(n=st.integers(0, 1), status=st.sampled_from([ACTIVE, DISABLED]))
    def hook_status(self, n, status):
        if self.hooks[n] not in self.deleted:
            hook_update(tenant_id=self.tenant, hook_id=self.hooks[n], changes={"status": status})

    @precondition(lambda self: not self.deleted)
    @rule()
    def hook_deleted(self):
        hook_delete(tenant_id=self.tenant, hook_id=self.hooks[1])
        self.deleted.add(self.hooks[1])

    @precondition(lambda self: any(d.status == FAILED for d in self.stored()))
    @rule(answer=ANSWERS, pick=st.integers(0, 100))
    def manual_retry(self, answer, pick):
        failed = [d for d in self.stored() if d.status == FAILED]
        delivery = failed[pick % len(failed)]
        self.fake.answer = answer
        if delivery.hook_id in self.deleted:
            return
        hook = Hook.get(self.tenant, Hook.key_for(delivery.hook_id), consistent_read=True)
        try:
            dispatch.delivery_retry(hook, delivery)
        except DeliveryNotRetryable:
            assert hook.status == DISABLED

    @rule(seconds=SHIFTS_S)
    def time_passes(self, seconds):
        self.clock.shift(seconds)

    def stored(self):
        return deliveries_of(self.tenant, *self.hooks)

    @invariant()
    def every_stored_delivery_keeps_the_invariants(self):
        sent: dict[str, int] = {}
        for event_id, _ in self.fake.sent:
            sent[event_id] = sent.get(event_id, 0) + 1
        stored = self.stored()
        counted: dict[str, int] = {}
        for delivery in stored:
            assert problems(delivery) == [], (delivery.event_id, delivery.attributes_values)
            if delivery.hook_id in self.deleted:
                # A hook deleted while a claim was in flight ends the delivery without it.
                assert recorded(delivery) in (owed(delivery), owed(delivery)[:-1]), delivery.attributes_values
            else:
                assert recorded(delivery) == owed(delivery), delivery.attributes_values
            key = f"{delivery.hook_id}/{delivery.event_id}"
            assert delivery.attempts >= self.attempts.get(key, 0), "attempts went down"
            self.attempts[key] = delivery.attempts
            counted[delivery.event_id] = counted.get(delivery.event_id, 0) + delivery.attempts
        for event_id, count in counted.items():
            assert sent.get(event_id, 0) <= count, "a send not counted"


def test_every_transition_keeps_the_invariants_of_a_stored_delivery(clock, fake, settings):
    run_state_machine_as_test(lambda: Deliveries(clock, fake, settings), settings=RUNS)


def test_one_walk_through_every_transition_keeps_the_invariants(clock, fake, settings):
    """The random runs above may miss a transition; this walk takes each one at least once."""
    tenant = f"t{uuid.uuid4().hex[:10]}"
    kept, dropped = subscribe(fake, tenant, 0), subscribe(fake, tenant, 1)

    def step(expected: dict[str, tuple[str, int, list[int]]]) -> None:
        stored = {d.hook_id: d for d in deliveries_of(tenant, kept, dropped)}
        assert {h: (d.status, d.attempts, recorded(d)) for h, d in stored.items()} == expected
        assert {h: problems(d) for h, d in stored.items()} == {h: [] for h in stored}

    def later(seconds: float = 40_000) -> None:
        clock.shift(seconds)

    fake.answer = 500
    handler.handle_stream(stream_of(tenant))  # new, due
    step({kept: ("pending", 0, []), dropped: ("pending", 0, [])})
    handler.run_due()  # claimed; settled to retry
    step({kept: ("pending", 1, [1]), dropped: ("pending", 1, [1])})
    later()
    for entry in due_entries():
        dispatch.claim_due(*entry, {})  # claimed, then the process dies
    step({kept: ("pending", 2, [1]), dropped: ("pending", 2, [1])})
    hook_update(tenant_id=tenant, hook_id=kept, changes={"status": DISABLED})
    hook_delete(tenant_id=tenant, hook_id=dropped)
    later()
    handler.run_due()  # lapsed, then parked (disabled); ended (deleted), its 2nd unrecorded
    step({kept: ("pending", 2, [1, 2]), dropped: ("failed", 2, [1])})
    fake.answer = 410
    hook_update(tenant_id=tenant, hook_id=kept, changes={"status": ACTIVE})  # resumed
    step({kept: ("pending", 2, [1, 2]), dropped: ("failed", 2, [1])})
    handler.run_due()  # claimed, settled failed (410)
    step({kept: ("failed", 3, [1, 2, 3]), dropped: ("failed", 2, [1])})
    hook_update(tenant_id=tenant, hook_id=kept, changes={"status": ACTIVE})
    fake.answer = 200
    [failed] = deliveries_of(tenant, kept)
    dispatch.delivery_retry(Hook.get(tenant, Hook.key_for(kept)), failed)  # retried, settled succeeded
    step({kept: ("succeeded", 4, [1, 2, 3, 4]), dropped: ("failed", 2, [1])})
    handler.handle_stream(stream_of(tenant))  # new, due: fan-out never claims
    assert [(d.status, d.attempts, problems(d)) for d in deliveries_of(tenant, kept)][-1] == ("pending", 0, [])


def as_stored(delivery: Delivery) -> dict:
    """A delivery's attributes, but the token of the write that made it."""
    return delivery.serialize() | {"write_token": None}


@pytest.mark.parametrize("answer", [200, 500, 410])
def test_the_delivery_an_outcome_answers_is_the_one_it_stored(answer, clock, fake):
    """The transaction that records an outcome answers no item: the copy made instead
    (lifecycle.settled_copy) must be what the store holds."""
    tenant = f"t{uuid.uuid4().hex[:10]}"
    subscribe(fake, tenant)
    handler.handle_stream(stream_of(tenant))
    [entry] = due_entries()
    claim = dispatch.claim_due(*entry, {})
    fake.answer = answer

    settled = dispatch.attempt(claim)

    assert as_stored(settled) == as_stored(Delivery.get(entry[0], entry[1], consistent_read=True))


def test_the_delivery_a_lapse_answers_is_the_one_it_stored(clock, fake):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    subscribe(fake, tenant)
    handler.handle_stream(stream_of(tenant))
    [entry] = due_entries()
    dispatch.claim_due(*entry, {})
    clock.shift(lifecycle.claim_ms() / 1000 + 1)
    found = Delivery.get(entry[0], entry[1], consistent_read=True)

    lapsed = outcomes.lapse_record(found)

    assert as_stored(lapsed) == as_stored(Delivery.get(entry[0], entry[1], consistent_read=True))
    assert outcomes.lapse_record(found) is None  # lapsed once: a second process finds it done
