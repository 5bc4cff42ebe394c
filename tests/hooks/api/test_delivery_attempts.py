"""`GET /v1/hooks/{id}/deliveries/{delivery_id}/attempts`: every attempt of a delivery,
oldest first, each with what the receiver answered (or why nothing came), recorded with its
outcome; an attempt that never finished (its claim ran out), one that could not be made,
and one whose claim was lost meanwhile are attempts too. In process, the clock moved."""

from datetime import UTC, datetime

import pytest

from events import ids
from hooks import dispatch, handler, lifecycle
from hooks.attempts import Attempt, attempt_item, attempts_of_delivery, attempts_of_event
from hooks.ids import delivery_id_for
from hooks.models import Delivery
from hooks.schedule import DELAYS_MS
from tests.hooks.api.deliveries_stored import due_entries
from tests.hooks.api.test_deliveries import ingest, subscribe
from tests.hooks.receiver import hang, status

START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to(START, tick=True)
    return time_machine


def attempts(client, hook_id: str, event_id: str):
    return client.get(f"/v1/hooks/{hook_id}/deliveries/{delivery_id_for(hook_id, event_id)}/attempts")


def stored(hook_id: str, event_id: str) -> Delivery:
    return Delivery.get(Delivery.pk_for("acme", hook_id), event_id, consistent_read=True)


def fanned_out(client, receiver, stream_records) -> tuple[str, str]:
    """(hook id, event id) of a delivery made due and not yet attempted."""
    hook_id = subscribe(client, receiver)["id"]
    event_id = client.post("/v1/events", {"n": 1}, format="json").json()["id"]
    handler.handle_stream(stream_records("acme", event_id))
    return hook_id, event_id


def test_a_500_then_a_200_are_two_attempts_oldest_first_each_with_its_answer(acme, receiver, stream_records, clock):
    hook_id = subscribe(acme, receiver)["id"]
    receiver.answer = status(500, body=b"try later")
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})
    clock.shift(DELAYS_MS[0] / 1000 * 1.2 + 1)
    receiver.answer = status(200, body=b"ok")
    assert handler.run_due() == {"attempted": 1}

    response = attempts(acme, hook_id, event_id)

    assert response.status_code == 200
    first, second = response.json()["attempts"]
    assert response.json() == {
        "attempts": [
            {
                "attempt": 1,
                "started_at": first["started_at"],
                "duration_ms": first["duration_ms"],
                "status_code": 500,
                "error": None,
                "response_body_excerpt": "try later",
            },
            {
                "attempt": 2,
                "started_at": second["started_at"],
                "duration_ms": second["duration_ms"],
                "status_code": 200,
                "error": None,
                "response_body_excerpt": "ok",
            },
        ]
    }
    delivery = stored(hook_id, event_id)
    assert delivery.created_at <= first["started_at"] < first["started_at"] + DELAYS_MS[0] * 0.8 <= second["started_at"]
    assert second["started_at"] + second["duration_ms"] == delivery.succeeded_at
    assert 0 <= first["duration_ms"] < 5000 and 0 <= second["duration_ms"] < 5000
    kept = attempts_of_delivery(tenant_id="acme", hook_id=hook_id, event_id=event_id)
    assert [(a.outcome, a.expires_at) for a in kept] == [
        ("retry", delivery.expires_at),
        ("succeeded", delivery.expires_at),
    ]


def test_the_excerpt_of_a_5_kib_answer_is_its_first_1_kib(acme, receiver, stream_records):
    hook_id = subscribe(acme, receiver)["id"]
    receiver.answer = status(500, body=b"0123456789abcdef" * 320)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})

    [attempt] = attempts(acme, hook_id, event_id).json()["attempts"]

    assert attempt["response_body_excerpt"] == "0123456789abcdef" * 64


def test_a_timeout_is_an_attempt_with_no_status_code_and_the_error(acme, receiver, stream_records, settings):
    settings.HOOKS_TIMEOUT_SECONDS = 0.5
    hook_id = subscribe(acme, receiver)["id"]
    receiver.answer = hang(receiver)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})

    [attempt] = attempts(acme, hook_id, event_id).json()["attempts"]

    assert attempt == {
        "attempt": 1,
        "started_at": attempt["started_at"],
        "duration_ms": attempt["duration_ms"],
        "status_code": None,
        "error": "timed out",
        "response_body_excerpt": None,
    }
    assert 450 <= attempt["duration_ms"] < 3000


def test_an_attempt_that_could_not_be_made_is_recorded_with_why(acme, receiver, stream_records, settings):
    hook_id = subscribe(acme, receiver)["id"]
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "not-the-key", []
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})

    [attempt] = attempts(acme, hook_id, event_id).json()["attempts"]

    assert attempt == {
        "attempt": 1,
        "started_at": attempt["started_at"],
        "duration_ms": 0,
        "status_code": None,
        "error": dispatch.SECRET_UNREADABLE,
        "response_body_excerpt": None,
    }
    assert receiver.requests == []


def test_a_claim_that_ran_out_is_recorded_as_an_attempt_that_did_not_finish(acme, receiver, stream_records, clock):
    hook_id, event_id = fanned_out(acme, receiver, stream_records)
    [entry] = due_entries()
    assert dispatch.claim_due(*entry, {}) is not None  # and its process dies
    claimed = stored(hook_id, event_id)
    clock.shift(lifecycle.claim_ms() / 1000 + 7)

    assert handler.run_due() == {"attempted": 1}  # lapsed, then attempted again at once

    first, second = attempts(acme, hook_id, event_id).json()["attempts"]
    assert first == {
        "attempt": 1,
        "started_at": claimed.attempt_until - lifecycle.claim_ms(),
        "duration_ms": lifecycle.claim_ms(),
        "status_code": None,
        "error": lifecycle.NOT_FINISHED,
        "response_body_excerpt": None,
    }
    assert (second["attempt"], second["status_code"], second["response_body_excerpt"]) == (2, 200, "ok")


def test_an_attempt_whose_claim_was_lost_is_recorded_and_leaves_the_delivery_alone(
    acme, receiver, stream_records, clock
):
    hook_id, event_id = fanned_out(acme, receiver, stream_records)
    [entry] = due_entries()
    late = dispatch.claim_due(*entry, {})
    clock.shift(lifecycle.claim_ms() / 1000 + 7)
    [entry] = due_entries()
    assert dispatch.claim_due(*entry, {}) is not None  # lapsed, and claimed by another process
    taken = stored(hook_id, event_id)
    receiver.answer = status(200, body=b"late but fine")

    assert dispatch.attempt(late) is None

    assert stored(hook_id, event_id).serialize() == taken.serialize()
    assert (taken.attempts, taken.last_error) == (2, lifecycle.NOT_FINISHED)
    [attempt] = attempts(acme, hook_id, event_id).json()["attempts"]  # the 2nd is in flight
    assert attempt == {
        "attempt": 1,
        "started_at": attempt["started_at"],
        "duration_ms": attempt["duration_ms"],
        "status_code": 200,
        "error": None,
        "response_body_excerpt": "late but fine",
    }


def test_a_record_of_the_attempt_found_already_does_not_keep_the_delivery_claimed(acme, receiver, stream_records):
    hook_id, event_id = fanned_out(acme, receiver, stream_records)
    [entry] = due_entries()
    claim = dispatch.claim_due(*entry, {})
    there = attempt_item(
        claim.delivery, started_at=1, duration_ms=2, status_code=None, error="there", body=b"", outcome="retry"
    )
    there.save()

    settled = dispatch.attempt(claim)

    assert (settled.status, settled.attempt_id) == ("succeeded", None)
    assert stored(hook_id, event_id).serialize() | {"write_token": None} == settled.serialize() | {"write_token": None}
    assert [a.error for a in attempts_of_delivery(tenant_id="acme", hook_id=hook_id, event_id=event_id)] == ["there"]


def test_one_query_reads_every_hooks_attempts_of_an_event(acme, receiver, stream_records):
    first, second = subscribe(acme, receiver)["id"], subscribe(acme, receiver)["id"]
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})

    found = attempts_of_event(tenant_id="acme", event_id=event_id)

    assert sorted((a.hook_id, a.attempt, a.status_code) for a in found) == sorted([(first, 1, 200), (second, 1, 200)])
    assert all(isinstance(a, Attempt) and a.event_id == event_id for a in found)


def test_a_delivery_not_attempted_yet_has_no_attempts(acme, receiver, stream_records):
    hook_id, event_id = fanned_out(acme, receiver, stream_records)

    response = attempts(acme, hook_id, event_id)

    assert (response.status_code, response.json()) == (200, {"attempts": []})


def test_another_tenants_or_another_hooks_delivery_is_404_as_the_delivery_is(acme, globex, receiver, stream_records):
    hook_id = subscribe(acme, receiver)["id"]
    other = subscribe(acme, receiver)["id"]
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})
    delivery_id, unknown = delivery_id_for(hook_id, event_id), "dlv_01J00000000000000000000000"
    asked = [(globex, hook_id, delivery_id), (acme, other, delivery_id), (acme, hook_id, unknown)]

    refused = [client.get(f"/v1/hooks/{hook}/deliveries/{delivery}/attempts") for client, hook, delivery in asked]

    assert [(r.status_code, r.json()["error"]["message"]) for r in refused] == [
        (404, f"Hook {hook_id} not found."),
        (404, f"Delivery {delivery_id} not found."),
        (404, f"Delivery {unknown} not found."),
    ]
    assert [r.json() for r in refused] == [
        client.get(f"/v1/hooks/{hook}/deliveries/{delivery}").json() for client, hook, delivery in asked
    ]


def test_a_key_without_scope_hooks_is_403(acme, client_for, receiver, stream_records):
    hook_id = subscribe(acme, receiver)["id"]
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})
    worker = client_for("acme", scopes=("ingest", "consume"))

    response = attempts(worker, hook_id, event_id)

    assert (response.status_code, response.json()["error"]) == (
        403,
        {"code": "permission_denied", "message": "This API key does not have the 'hooks' scope.", "details": {}},
    )
