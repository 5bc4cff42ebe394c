"""Every method of `client.hooks` against the app: the typed answers, the cursor followed,
and the errors the envelope names."""

from dataclasses import asdict, fields, replace

import pytest
from standardwebhooks import Webhook

from hooks import handler
from hooks.ids import delivery_id_for
from tests.hooks.receiver import status
from triggerapi_client import Attempt, Conflict, CreatedHook, Delivery, Hook, NotFound, TestResult


def test_a_hook_is_created_read_changed_and_deleted(connect, receiver):
    client = connect("acme")

    created = client.hooks.create(receiver.url("/in"), event_types=["order.paid"], description="orders")
    hook = client.hooks.get(created.id)
    changed = client.hooks.update(created.id, description=None, status="disabled")
    client.hooks.delete(created.id)

    assert isinstance(created, CreatedHook) and created.secret.startswith("whsec_")
    assert hook == Hook(**{f.name: getattr(created, f.name) for f in fields(Hook)})
    assert hook.target_url == receiver.url("/in") and (hook.event_types, hook.description) == (["order.paid"], "orders")
    assert (hook.status, hook.disabled_reason) == ("active", None)
    expected = replace(hook, description=None, status="disabled", disabled_reason="manual")
    assert changed == replace(expected, updated_at=changed.updated_at) and changed.updated_at >= hook.updated_at
    with pytest.raises(NotFound):
        client.hooks.get(created.id)


def test_hooks_are_listed_a_page_at_a_time_and_iterated_over_every_page(connect, receiver):
    client = connect("acme")
    ids = {client.hooks.create(receiver.url(f"/{n}")).id for n in range(3)}

    page = client.hooks.list(limit=2)
    rest = client.hooks.list(limit=2, cursor=page.next_cursor)
    every = [hook.id for hook in client.hooks.iterate(page_size=1)]

    assert (len(page.hooks), page.has_more, len(rest.hooks), rest.has_more, rest.next_cursor) == (
        2,
        True,
        1,
        False,
        None,
    )
    assert {hook.id for hook in page.hooks + rest.hooks} == ids
    assert sorted(every) == sorted(ids)
    assert connect("globex").hooks.list().hooks == []


def test_a_rotated_secret_signs_beside_the_old_one_and_the_test_event_says_how_it_went(connect, receiver):
    client = connect("acme")
    hook = client.hooks.create(receiver.url("/in"))

    secret = client.hooks.rotate_secret(hook.id)
    result = client.hooks.test(hook.id)

    assert secret.startswith("whsec_") and secret != hook.secret
    assert result == TestResult(status_code=200, duration_ms=result.duration_ms, error=None)
    [request] = receiver.requests
    for signing in (hook.secret, secret):
        assert Webhook(signing).verify(request.body, request.headers)["event_type"] == "triggerapi.test"


def test_a_failed_delivery_is_listed_and_retried_once_its_hook_is_enabled(connect, receiver, stream_records):
    client = connect("acme")
    hook = client.hooks.create(receiver.url("/in"))
    receiver.answer = status(410)
    receipts = client.create_events([{"n": 1}, {"n": 2}])
    handler.handle_stream(stream_records("acme", *(receipt.id for receipt in receipts)))
    handler.run_due()

    failed = {
        delivery.event_id: delivery
        for delivery in client.hooks.iterate_deliveries(hook.id, status="failed", page_size=1)
    }
    first = failed[receipts[0].id]
    with pytest.raises(Conflict):
        client.hooks.retry_delivery(hook.id, first.id)  # a 410 disabled the hook
    client.hooks.update(hook.id, status="active")
    receiver.answer = status(200)
    retried = client.hooks.retry_delivery(hook.id, first.id)

    assert sorted(failed) == sorted(receipt.id for receipt in receipts)
    assert first == Delivery(
        id=delivery_id_for(hook.id, receipts[0].id),
        hook_id=hook.id,
        event_id=receipts[0].id,
        status="failed",
        attempts=1,
        next_attempt_at=None,
        last_status_code=410,
        last_error=first.last_error,
        created_at=first.created_at,
        succeeded_at=None,
    )
    assert asdict(retried) | {"succeeded_at": 0} == asdict(first) | {
        "status": "succeeded",
        "attempts": 2,
        "last_status_code": 200,
        "last_error": None,
        "succeeded_at": 0,
    }
    assert [d.id for d in client.hooks.list_deliveries(hook.id, status="failed").deliveries] == [
        failed[receipts[1].id].id
    ]
    with pytest.raises(NotFound):
        client.hooks.list_deliveries("hook_01JD7Z8X4Q2N3M5P6R7S8T9V0W")


def test_one_delivery_is_read_by_its_id_and_another_hooks_is_not_found(connect, receiver, stream_records):
    client = connect("acme")
    first, second = client.hooks.create(receiver.url("/1")), client.hooks.create(receiver.url("/2"))
    [receipt] = client.create_events([{"n": 1}])
    handler.handle_stream(stream_records("acme", receipt.id))
    [listed] = client.hooks.list_deliveries(first.id).deliveries

    assert client.hooks.get_delivery(first.id, listed.id) == listed
    with pytest.raises(NotFound):
        client.hooks.get_delivery(second.id, listed.id)


def test_a_deliverys_attempts_are_listed_oldest_first_and_another_hooks_is_not_found(connect, receiver, stream_records):
    client = connect("acme")
    hook, other = client.hooks.create(receiver.url("/in")), client.hooks.create(receiver.url("/other"))
    receiver.answer = status(410, body=b"gone for good")
    [receipt] = client.create_events([{"n": 1}])
    handler.handle_stream(stream_records("acme", receipt.id))
    handler.run_due()
    client.hooks.update(hook.id, status="active")
    receiver.answer = status(200)
    delivery_id = delivery_id_for(hook.id, receipt.id)
    client.hooks.retry_delivery(hook.id, delivery_id)

    first, second = client.hooks.list_attempts(hook.id, delivery_id)

    assert first == Attempt(
        attempt=1,
        started_at=first.started_at,
        duration_ms=first.duration_ms,
        status_code=410,
        error=None,
        response_body_excerpt="gone for good",
    )
    assert (second.attempt, second.status_code, second.error, second.response_body_excerpt) == (2, 200, None, None)
    assert first.started_at <= second.started_at
    with pytest.raises(NotFound):
        client.hooks.list_attempts(other.id, delivery_id)


def test_a_hooks_rate_limit_is_set_on_create_and_cleared_by_update(connect, receiver):
    client = connect("acme")

    created = client.hooks.create(receiver.url("/in"), rate_limit=25)
    read = client.hooks.get(created.id)
    cleared = client.hooks.update(created.id, rate_limit=None)

    assert (created.rate_limit, read.rate_limit, cleared.rate_limit) == (25, 25, None)
    assert client.hooks.create(receiver.url("/in")).rate_limit is None
