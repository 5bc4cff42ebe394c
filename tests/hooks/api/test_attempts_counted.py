"""Every attempt counts when it starts: a claim that is never recorded (the process killed,
the function stopped) still moves the delivery along its schedule, to `failed` after its
8th; an unreadable secret or event is a failed attempt that says why; and no attempt starts
that cannot end before the function running it must stop. In process, the clock moved."""

import threading
import time
from datetime import UTC, datetime

from events.models import Event
from hooks import dispatch, fanout, handler, lifecycle, outcomes
from hooks.dispatcher import Dispatcher
from hooks.models import FAILED, PENDING, SUCCEEDED, Delivery
from hooks.schedule import DELAYS_MS, JITTER, MAX_ATTEMPTS
from hooks.selectors import hooks_active
from hooks.services import hook_create
from tests.hooks.api.deliveries_stored import (
    context,
    deliveries_of,
    due_entries,
    problems,
    stream_of,
    subscribe,
)
from tests.hooks.receiver import Receiver, hang
from triggerapi.store import now_ms

TENANT = "acme"


def one(hook_id: str) -> Delivery:
    [delivery] = deliveries_of(TENANT, hook_id)
    assert problems(delivery) == []
    return delivery


def test_a_delivery_whose_attempts_never_finish_ends_failed_after_its_8th(clock, fake):
    hook_id = subscribe(fake, TENANT)
    hook = hooks_active(tenant_id=TENANT)[0]
    event = Event.get(TENANT, stream_of(TENANT)["Records"][0]["dynamodb"]["NewImage"]["sk"]["S"])
    assert fanout.deliver_new(hook, event) is not None
    [entry] = due_entries()
    assert dispatch.claim_due(*entry, {}) is not None  # claimed, and never attempted nor recorded
    claimed = one(hook_id)
    assert (claimed.attempts, claimed.status) == (1, PENDING)

    for number in range(2, MAX_ATTEMPTS + 1):
        delay = DELAYS_MS[number - 2]
        clock.move_to(datetime.fromtimestamp(claimed.attempt_until / 1000, tz=UTC))
        clock.shift(delay * (1 - JITTER) / 1000 - 0.001)
        assert [dispatch.claim_due(*entry, {}) for entry in due_entries()] == [None]  # lapsed, not due yet
        lapsed = one(hook_id)
        assert lapsed.attempt_id is None and lapsed.last_error == lifecycle.NOT_FINISHED
        assert claimed.attempt_until + delay * (1 - JITTER) <= lapsed.next_attempt_at
        assert lapsed.next_attempt_at <= claimed.attempt_until + delay * (1 + JITTER)
        clock.move_to(datetime.fromtimestamp(lapsed.next_attempt_at / 1000, tz=UTC))
        [claim] = [dispatch.claim_due(*entry, {}) for entry in due_entries()]
        claimed = one(hook_id)
        assert (claim.delivery.attempts, claimed.attempts, claimed.status) == (number, number, PENDING)

    clock.move_to(datetime.fromtimestamp(claimed.attempt_until / 1000, tz=UTC))
    assert handler.run_due() == {"attempted": 0}
    ended = one(hook_id)
    assert (ended.status, ended.attempts, ended.last_error) == (FAILED, MAX_ATTEMPTS, lifecycle.NOT_FINISHED)
    assert due_entries() == [] and fake.sent == []


def test_a_killed_first_attempt_counts_and_the_next_is_the_second(clock, fake):
    hook_id = subscribe(fake, TENANT)
    fake.answer = 500
    handler.handle_stream(stream_of(TENANT))  # fan-out: created due, never attempted
    assert (one(hook_id).attempts, fake.sent) == (0, [])
    [claim] = [dispatch.claim_due(*entry, {}) for entry in due_entries()]  # then the process dies
    assert one(hook_id).attempts == 1

    clock.shift(lifecycle.claim_ms() / 1000 + DELAYS_MS[0] * (1 + JITTER) / 1000)
    assert handler.run_due() == {"attempted": 1}

    retried = one(hook_id)
    assert (retried.attempts, retried.last_status_code, fake.sent) == (2, 500, [(claim.delivery.event_id, 2)])


def test_an_unreadable_secret_is_a_failed_attempt_that_says_so_and_moves_on(clock, fake, settings):
    hook_id = subscribe(fake, TENANT)
    before = outcomes.TALLY.copy()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "another-key", []

    assert handler.handle_stream(stream_of(TENANT)) == {"batchItemFailures": []}
    assert handler.run_due() == {"attempted": 1}

    failed = one(hook_id)
    assert (failed.status, failed.attempts, failed.last_status_code) == (PENDING, 1, None)
    assert failed.last_error == "The hook's secret cannot be opened with this SECRET_KEY or its fallbacks."
    assert failed.next_attempt_at - now_ms() <= DELAYS_MS[0] * (1 + JITTER)
    assert fake.sent == []
    assert outcomes.TALLY.not_made[dispatch.SECRET_UNREADABLE] - before.not_made[dispatch.SECRET_UNREADABLE] == 1


def test_a_deleted_event_ends_its_delivery_failed_at_its_next_attempt(clock, fake, acme):
    hook_id = subscribe(fake, TENANT)
    fake.answer = 500
    records = stream_of(TENANT)
    handler.handle_stream(records)
    handler.run_due()
    event_id = records["Records"][0]["dynamodb"]["NewImage"]["sk"]["S"]
    assert acme.delete(f"/v1/events/{event_id}").status_code == 204

    clock.shift(60)
    assert handler.run_due() == {"attempted": 1}

    ended = one(hook_id)
    assert (ended.status, ended.attempts, ended.last_error) == (FAILED, 2, dispatch.EVENT_GONE)
    assert len(fake.sent) == 1


def test_the_stream_function_attempts_nothing_and_run_due_claims_only_what_fits(clock, fake):
    hook_id = subscribe(fake, TENANT)
    one_attempt = lifecycle.claim_ms() + handler.DEADLINE_MARGIN_MS

    handler.handle_stream(stream_of(TENANT, 40), context(10 * one_attempt))

    made = deliveries_of(TENANT, hook_id)
    assert [problems(d) for d in made] == [[]] * 40
    assert [d.attempts for d in made] == [0] * 40 and fake.sent == []  # fan-out never waits on a receiver
    assert handler.run_due({}, context(one_attempt - 1)) == {"attempted": 0}  # not even one fits
    assert handler.run_due({}, context(one_attempt)) == {"attempted": 40}  # each ends in time (the clock stands)
    assert {d.status for d in deliveries_of(TENANT, hook_id)} == {SUCCEEDED}


def test_run_due_waits_for_the_places_its_own_attempts_hold_and_goes_on(clock, fake, monkeypatch):
    """40 due, 10 places (HOOK_MAX_IN_FLIGHT): the first 10 attempts answer only after the
    second round has found every place taken; run_due waits for them, then takes the rest."""
    subscribe(fake, TENANT)
    handler.handle_stream(stream_of(TENANT, 40))
    second_round, rounds = threading.Event(), []
    counted = Dispatcher.round

    def round_counted(self, **kwargs):
        made = counted(self, **kwargs)
        rounds.append(made)
        if len(rounds) == 2:
            second_round.set()
        return made

    monkeypatch.setattr(Dispatcher, "round", round_counted)
    monkeypatch.setattr(dispatch, "attempt_deliver", lambda **kwargs: (second_round.wait(30), fake(**kwargs))[1])

    assert handler.run_due() == {"attempted": 40}
    assert rounds[:2] == [10, 0]
    assert len(fake.sent) == 40


def test_run_due_with_64_hanging_deliveries_returns_before_its_deadline(local_targets, monkeypatch):
    """Real time and a receiver that never answers: attempts start only in the first 0.9 s
    (then one would not end before the deadline), no more than the hook's places in flight
    (HOOK_MAX_IN_FLIGHT), and another would start when the first end (after 1 s), too late."""
    local_targets.HOOKS_TIMEOUT_SECONDS = 1.0
    monkeypatch.setattr(lifecycle, "RECORDING_MS", 2_000)
    remaining_ms = lifecycle.claim_ms() + handler.DEADLINE_MARGIN_MS + 900  # 0.9 s to start attempts in
    with Receiver() as receiver:
        receiver.answer = hang(receiver)
        hook = hook_create(
            tenant_id=TENANT, target_url=receiver.url("/hang"), event_types=[], description=None, created_by="t"
        ).hook
        handler.handle_stream(stream_of(TENANT, 64))  # 64 due, none attempted
        started = time.monotonic()

        attempted = handler.run_due({}, context(remaining_ms))["attempted"]

        took_ms = (time.monotonic() - started) * 1000
        assert took_ms < remaining_ms - handler.DEADLINE_MARGIN_MS, took_ms
        assert 1 <= attempted <= 10 and len(receiver.requests) <= attempted  # a busy receiver may miss one
    made = deliveries_of(TENANT, hook.hook_id)
    assert sorted(d.attempts for d in made) == [0] * (64 - attempted) + [1] * attempted
    assert all("timed out" in d.last_error for d in made if d.attempts)
    assert [problems(d) for d in made] == [[]] * 64
