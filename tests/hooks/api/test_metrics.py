"""Push delivery's metrics (hooks/outcomes.py `measure`), written when the function that made
the attempts ends: each attempt by outcome, per tenant and per hook, and for a success the
time from its event's ingest to the receiver's answer."""

from events.models import Event
from hooks import handler
from tests.emf import problems, total, values
from tests.hooks.api.deliveries_stored import stream_of, subscribe

TENANT = "acme"


def test_attempts_count_by_outcome_per_hook_and_successes_carry_their_latency(clock, fake, emitted):
    paid, other = subscribe(fake, TENANT, 0), subscribe(fake, TENANT, 1)
    handler.handle_stream(stream_of(TENANT, 2))
    clock.shift(1.5)
    handler.run_due()

    assert all(problems(document) == [] for document in emitted)
    assert total(emitted, "DeliveryAttempts", tenant=TENANT, hook=paid, outcome="succeeded") == 2
    assert total(emitted, "DeliveryAttempts", tenant=TENANT, hook=other, outcome="succeeded") == 2
    assert values(emitted, "DeliveryLatency", tenant=TENANT, hook=paid) == [1500, 1500]


def test_a_failed_attempt_to_be_retried_counts_as_retry_and_has_no_latency(clock, fake, emitted):
    hook = subscribe(fake, TENANT)
    fake.answer = 500
    handler.handle_stream(stream_of(TENANT))
    handler.run_due()

    assert total(emitted, "DeliveryAttempts", tenant=TENANT, hook=hook, outcome="retry") == 1
    assert values(emitted, "DeliveryLatency") == []


def test_an_attempt_that_could_not_be_made_counts_as_not_made(clock, fake, emitted):
    hook = subscribe(fake, TENANT)
    stream = stream_of(TENANT)
    handler.handle_stream(stream)
    Event.get(TENANT, stream["Records"][0]["dynamodb"]["NewImage"]["sk"]["S"]).delete()
    handler.run_due()

    assert total(emitted, "DeliveryAttempts", tenant=TENANT, hook=hook, outcome="not_made") == 1
    assert fake.sent == []
