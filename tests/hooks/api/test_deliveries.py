"""Deliveries through the handler, in process: fan-out of stream records to matching
hooks, signatures, the schedule (moved by the clock, never slept), 410, Retry-After,
disabling, deleting, manual retry, and two processes racing for one delivery."""

import json
import logging
from datetime import UTC, datetime

import pytest
import time_machine
from standardwebhooks import Webhook

from events import ids
from hooks import handler
from hooks.ids import delivery_id_for
from hooks.models import Delivery, Hook
from hooks.schedule import DELAYS_MS
from tests.hooks.receiver import Receiver, status
from triggerapi.logs import JsonFormatter

# Ahead of the real clock: event ids are monotonic within a process, so a clock moved back
# would give events the ids (and creation times) of the real time instead.
START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """Event ids made on the moved clock must not outlive the test: ids are monotonic, and
    later tests' events would get ids (creation times) from 2027."""
    monkeypatch.setattr(ids, "_last", 0)
    with time_machine.travel(START, tick=True) as traveller:
        yield traveller


@pytest.fixture
def receiver(local_targets):
    with Receiver() as running:
        yield running


def subscribe(client, receiver, **body) -> dict:
    response = client.post("/v1/hooks", {"target_url": receiver.url("/in"), **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def ingest(client, tenant_id, stream_records, *payloads) -> list[str]:
    """Events ingested, fanned out from their stream records, and the dispatcher's round that
    attempts what that made due (as run_deliveries runs them)."""
    ids = [client.post("/v1/events", payload, format="json").json()["id"] for payload in payloads]
    handler.handle_stream(stream_records(tenant_id, *ids))
    handler.run_due()
    return ids


def deliveries(client, hook_id, **query) -> list[dict]:
    return client.get(f"/v1/hooks/{hook_id}/deliveries", query).json()["deliveries"]


def test_each_new_event_reaches_each_matching_hook_signed_with_its_secret(acme, globex, receiver, stream_records):
    every = subscribe(acme, receiver)
    paid = subscribe(acme, receiver, event_types=["order.paid"])
    subscribe(globex, receiver)
    ids = ingest(acme, "acme", stream_records, {"event_type": "order.paid", "n": 1}, {"event_type": "other", "n": 2})
    by_secret = {every["secret"]: [], paid["secret"]: []}
    for request in receiver.requests:
        for secret in by_secret:
            try:
                Webhook(secret).verify(request.body, request.headers)
            except Exception:
                continue
            by_secret[secret].append(request.headers["webhook-id"])
    assert sorted(by_secret[every["secret"]]) == sorted(ids)
    assert by_secret[paid["secret"]] == [ids[0]]
    assert len(receiver.requests) == 3  # globex's hook got none of acme's events
    body = json.loads(next(r.body for r in receiver.requests if r.headers["webhook-id"] == ids[0]))
    assert body == acme.get(f"/v1/events/{ids[0]}").json() | {"status": "undelivered"}
    assert [d["status"] for d in deliveries(acme, every["id"])] == ["succeeded", "succeeded"]
    assert deliveries(acme, paid["id"])[0] | {"created_at": 0, "succeeded_at": 0, "next_attempt_at": None} == {
        "id": delivery_id_for(paid["id"], ids[0]),
        "hook_id": paid["id"],
        "event_id": ids[0],
        "status": "succeeded",
        "attempts": 1,
        "next_attempt_at": None,
        "last_status_code": 200,
        "last_error": None,
        "created_at": 0,
        "succeeded_at": 0,
    }


def test_records_handed_over_twice_make_one_delivery_and_one_attempt(acme, receiver, stream_records):
    subscribe(acme, receiver)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})
    assert handler.handle_stream(stream_records("acme", event_id)) == {"batchItemFailures": []}
    handler.run_due()
    assert len(receiver.requests) == 1


def test_events_created_before_the_hook_are_not_delivered(acme, receiver, stream_records, clock):
    before = acme.post("/v1/events", {"n": 1}, format="json").json()["id"]
    clock.shift(1)
    subscribe(acme, receiver)
    handler.handle_stream(stream_records("acme", before))
    handler.run_due()
    assert receiver.requests == []


def test_500_then_200_is_retried_on_the_schedule_and_succeeds(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(500)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})
    [pending] = deliveries(acme, hook["id"])
    assert (pending["status"], pending["attempts"], pending["last_status_code"]) == ("pending", 1, 500)
    assert handler.run_due() == {"attempted": 0}  # not due yet
    clock.shift(DELAYS_MS[0] / 1000 * 1.2 + 1)
    receiver.answer = status(200)
    assert handler.run_due() == {"attempted": 1}
    [done] = deliveries(acme, hook["id"])
    assert (done["status"], done["attempts"], done["last_status_code"]) == ("succeeded", 2, 200)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event_id, event_id]


def test_8_failed_attempts_end_failed_and_a_manual_retry_restarts_it(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(502)
    ingest(acme, "acme", stream_records, {"n": 1})
    for delay in DELAYS_MS:
        clock.shift(delay / 1000 * 1.2 + 1)
        assert handler.run_due() == {"attempted": 1}
    [failed] = deliveries(acme, hook["id"], status="failed")
    assert (failed["attempts"], failed["next_attempt_at"]) == (8, None)
    clock.shift(86400)
    assert handler.run_due() == {"attempted": 0}
    receiver.answer = status(204)
    retried = acme.post(f"/v1/hooks/{hook['id']}/deliveries/{failed['id']}/retry")
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("succeeded", 9)
    again = acme.post(f"/v1/hooks/{hook['id']}/deliveries/{failed['id']}/retry")
    assert again.status_code == 409 and "succeeded" in again.json()["error"]["message"]


def test_410_disables_the_hook_and_ends_the_delivery(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(410)
    ingest(acme, "acme", stream_records, {"n": 1})
    shown = acme.get(f"/v1/hooks/{hook['id']}").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "gone")
    [failed] = deliveries(acme, hook["id"])
    assert (failed["status"], failed["last_status_code"]) == ("failed", 410)
    ingest(acme, "acme", stream_records, {"n": 2})
    clock.shift(86400)
    handler.run_due()
    assert len(receiver.requests) == 1


def test_429_waits_for_retry_after_when_longer_than_the_schedule(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(429, Retry_After="120")
    ingest(acme, "acme", stream_records, {"n": 1})
    [pending] = deliveries(acme, hook["id"])
    waited = pending["next_attempt_at"] - Delivery.get(f"dlv#acme#{hook['id']}", pending["event_id"]).created_at
    assert 120_000 <= waited < 121_000 + 5_000
    clock.shift(60)
    assert handler.run_due() == {"attempted": 0}
    clock.shift(61)
    assert handler.run_due() == {"attempted": 1}


def test_no_attempt_after_the_hook_is_deleted(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(503)
    ingest(acme, "acme", stream_records, {"n": 1}, {"n": 2})
    assert len(receiver.requests) == 2
    assert acme.delete(f"/v1/hooks/{hook['id']}").status_code == 204
    clock.shift(86400)
    assert handler.run_due() == {"attempted": 0}
    assert len(receiver.requests) == 2


def test_a_disabled_hook_holds_its_deliveries_and_resumes_them_when_enabled(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(500)
    ingest(acme, "acme", stream_records, {"n": 1})
    acme.patch(f"/v1/hooks/{hook['id']}", {"status": "disabled"}, format="json")
    ingest(acme, "acme", stream_records, {"n": 2})  # not owed to a disabled hook
    clock.shift(3600)
    assert handler.run_due() == {"attempted": 0}
    assert len(receiver.requests) == 1
    receiver.answer = status(200)
    acme.patch(f"/v1/hooks/{hook['id']}", {"status": "active"}, format="json")
    assert handler.run_due() == {"attempted": 1}
    assert [d["status"] for d in deliveries(acme, hook["id"])] == ["succeeded"]


def test_five_days_of_failures_disable_the_hook_as_failing(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(500)
    for day in range(6):
        ingest(acme, "acme", stream_records, {"day": day})
        clock.shift(86400)
        handler.run_due()
    shown = acme.get(f"/v1/hooks/{hook['id']}").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "failing")


def test_a_success_ends_the_failure_streak(acme, receiver, stream_records, clock):
    hook = subscribe(acme, receiver)
    receiver.answer = status(500)
    ingest(acme, "acme", stream_records, {"n": 1})
    assert Hook.get("acme", f"hook#{hook['id']}").failing_since is not None
    receiver.answer = status(200)
    ingest(acme, "acme", stream_records, {"n": 2})
    assert Hook.get("acme", f"hook#{hook['id']}").failing_since is None


def test_two_processes_claiming_one_due_delivery_attempt_it_once(acme, receiver, stream_records, clock):
    from hooks import dispatch as service
    from hooks.queues import hook_queue

    hook = subscribe(acme, receiver)
    receiver.answer = status(500)
    ingest(acme, "acme", stream_records, {"n": 1})
    clock.shift(60)
    [entry] = hook_queue("acme", hook["id"], 10)
    first = service.claim_due(entry.pk, entry.event_id, entry.due_key, {})
    second = service.claim_due(entry.pk, entry.event_id, entry.due_key, {})
    assert first is not None and second is None


def test_retry_of_a_delivery_that_is_not_failed_is_409_and_unknown_is_404(acme, receiver, stream_records):
    hook = subscribe(acme, receiver)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})
    base = f"/v1/hooks/{hook['id']}/deliveries"
    assert acme.post(f"{base}/dlv_{event_id[4:]}/retry").status_code == 409
    assert acme.post(f"{base}/dlv_01J00000000000000000000000/retry").status_code == 404
    assert acme.post(f"{base}/nonsense/retry").status_code == 404


@pytest.mark.parametrize("kind", ["lost", "reset", "throttled"])
def test_a_manual_retry_under_a_store_fault_answers_the_truth_or_503(acme, receiver, stream_records, clock, kind):
    from tests.faults import inject

    hook = subscribe(acme, receiver)
    receiver.answer = status(410)
    ingest(acme, "acme", stream_records, {"n": 1})
    acme.patch(f"/v1/hooks/{hook['id']}", {"status": "active"}, format="json")
    [failed] = deliveries(acme, hook["id"], status="failed")
    receiver.answer = status(200)
    with inject(kind, at=1, down=True, operation="TransactWriteItems"):
        response = acme.post(f"/v1/hooks/{hook['id']}/deliveries/{failed['id']}/retry")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] and response.json()["error"]["code"] == "service_unavailable"
    [after] = deliveries(acme, hook["id"])
    if response.json()["error"]["details"].get("write") == "not_applied":
        assert after["status"] == "failed"
    assert len(receiver.requests) == 1  # no attempt was made without its claim


def test_an_attempt_logs_a_json_line_naming_the_hook_event_status_and_duration(acme, receiver, stream_records, caplog):
    caplog.set_level(logging.INFO, logger="hooks.deliveries")
    hook = subscribe(acme, receiver)
    [event_id] = ingest(acme, "acme", stream_records, {"event_type": "t"})

    [record] = [r for r in caplog.records if r.getMessage() == "delivery attempt"]
    line = json.loads(JsonFormatter().format(record))

    assert {k: line[k] for k in ("logger", "message", "hook_id", "event_id", "status_code", "outcome")} == {
        "logger": "hooks.deliveries",
        "message": "delivery attempt",
        "hook_id": hook["id"],
        "event_id": event_id,
        "status_code": 200,
        "outcome": "succeeded",
    }
    assert isinstance(line["duration_ms"], int | float)
