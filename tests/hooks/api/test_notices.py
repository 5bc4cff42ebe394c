"""Events about the tenant's own integration (hooks/notices.py), in process: a hook the
pipeline disables and a delivery whose last attempt failed are pushed to the tenant's hooks
that name the type, and to no other; delivered as any event (signed, listed, with attempts)
but never stored among the tenant's events; never about a `triggerapi.*` event's delivery;
made once, whatever answer of the write that decided it was lost. The clock is moved."""

import json

import pytest
from standardwebhooks import Webhook

from events import ids
from events.ids import created_at_of
from events.models import Event
from hooks import dispatch, handler, lifecycle, notices, outcomes, schedule
from hooks.attempt import AttemptResult
from hooks.ids import delivery_id_for
from hooks.models import Delivery, Hook
from hooks.notices import DELIVERY_FAILED, HOOK_DISABLED
from hooks.schedule import DELAYS_MS
from hooks.selectors import hooks_active
from tests.faults import inject
from tests.hooks.api.deliveries_stored import due_entries
from tests.hooks.api.test_deliveries import START, deliveries, ingest
from tests.hooks.receiver import status
from triggerapi import store
from triggerapi.store import now_ms


@pytest.fixture
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to(START, tick=True)
    return time_machine


def hook(client, receiver, name: str, **body) -> dict:
    """A hook of the client's tenant posting to `/<name>` on the receiver."""
    response = client.post("/v1/hooks", {"target_url": receiver.url(f"/{name}"), **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def answering(**codes: int):
    """The receiver answers each path's code (`a=410`: `/a` answers 410), 200 elsewhere."""
    return lambda handler: status(codes.get(handler.path.strip("/"), 200))(handler)


def received(receiver, name: str) -> list:
    return [r for r in receiver.requests if r.path == f"/{name}"]


def notice_as_sent(request, payload: dict) -> dict:
    """The event object a notice is sent as: an event's, with an id of its own."""
    notice_id = request.headers["webhook-id"]
    created_at = created_at_of(notice_id)
    return {
        "id": notice_id,
        "created_at": created_at,
        "status": "undelivered",
        "payload": payload,
        "event_type": payload["event_type"],
        "attempts": 0,
        "lease_expires_at": None,
        "delivered_at": None,
        "available_at": created_at,
    }


def through_the_schedule(clock) -> None:
    """Every retry of the schedule made, the clock moved past each delay."""
    for delay in DELAYS_MS:
        clock.shift(delay / 1000 * 1.2 + 1)
        handler.run_due()
    handler.run_due()  # what the last attempts made due (the notices)


def stored_events(tenant_id: str) -> list[str]:
    return [e.event_id for e in Event.query(tenant_id, Event.event_id.startswith("evt_"), consistent_read=True)]


def test_a_410_is_told_to_the_hooks_naming_hook_disabled_and_to_no_other(
    acme, receiver, stream_records, clock, settings
):
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[HOOK_DISABLED])
    c = hook(acme, receiver, "c")
    d = hook(acme, receiver, "d", event_types=["order.paid", DELIVERY_FAILED])
    receiver.answer = answering(a=410)
    [event_id] = ingest(acme, "acme", stream_records, {"event_type": "order.created"})
    handler.run_due()  # the notice, if the round that disabled the hook did not take it

    [sent] = received(receiver, "b")
    payload = {"event_type": HOOK_DISABLED, "hook_id": a["id"], "reason": "gone"}
    assert json.loads(sent.body) == notice_as_sent(sent, payload)
    Webhook(b["secret"]).verify(sent.body, sent.headers)
    notice_id = sent.headers["webhook-id"]
    assert notice_id != event_id
    assert [r.headers["webhook-id"] for r in received(receiver, "a")] == [event_id]
    assert [r.headers["webhook-id"] for r in received(receiver, "c")] == [event_id]
    assert received(receiver, "d") == []
    assert [x["event_id"] for x in deliveries(acme, a["id"])] == [event_id]
    assert [x["event_id"] for x in deliveries(acme, c["id"])] == [event_id]
    assert deliveries(acme, d["id"]) == []
    # not one of the tenant's events
    assert stored_events("acme") == [event_id]
    assert [e["id"] for e in acme.get("/v1/events").json()["events"]] == [event_id]
    assert acme.get(f"/v1/events/{notice_id}").status_code == 404
    # a delivery as any, with its attempts, kept as long as an event
    [delivery] = deliveries(acme, b["id"])
    assert delivery == {
        "id": delivery_id_for(b["id"], notice_id),
        "hook_id": b["id"],
        "event_id": notice_id,
        "status": "succeeded",
        "attempts": 1,
        "next_attempt_at": None,
        "last_status_code": 200,
        "last_error": None,
        "created_at": delivery["created_at"],
        "succeeded_at": delivery["succeeded_at"],
    }
    [attempt] = acme.get(f"/v1/hooks/{b['id']}/deliveries/{delivery['id']}/attempts").json()["attempts"]
    assert (attempt["attempt"], attempt["status_code"], attempt["error"]) == (1, 200, None)
    kept = Delivery.get(Delivery.pk_for("acme", b["id"]), notice_id, consistent_read=True)
    retention_ms = settings.RETENTION_DAYS * schedule.DAY_MS
    assert abs(kept.expires_at.timestamp() * 1000 - (created_at_of(notice_id) + retention_ms)) < 1000
    assert kept.body == sent.body.decode()


def test_five_days_of_failures_are_told_with_the_reason_failing(acme, receiver, stream_records, clock):
    a = hook(acme, receiver, "a")
    hook(acme, receiver, "b", event_types=[HOOK_DISABLED])
    receiver.answer = answering(a=500)
    for day in range(6):
        ingest(acme, "acme", stream_records, {"day": day})
        clock.shift(86400)
        handler.run_due()

    assert acme.get(f"/v1/hooks/{a['id']}").json()["disabled_reason"] == "failing"
    [sent] = received(receiver, "b")
    assert json.loads(sent.body)["payload"] == {"event_type": HOOK_DISABLED, "hook_id": a["id"], "reason": "failing"}


def test_a_manual_disable_is_told_to_no_hook(acme, receiver, stream_records, clock):
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[HOOK_DISABLED])
    assert acme.patch(f"/v1/hooks/{a['id']}", {"status": "disabled"}, format="json").json()["disabled_reason"] == (
        "manual"
    )
    handler.run_due()
    assert deliveries(acme, b["id"]) == []
    assert receiver.requests == []


def test_the_8th_failed_attempt_is_told_to_the_hooks_naming_delivery_failed(acme, receiver, stream_records, clock):
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[DELIVERY_FAILED])
    c = hook(acme, receiver, "c", event_types=[HOOK_DISABLED])
    receiver.answer = answering(a=502)
    [event_id] = ingest(acme, "acme", stream_records, {"event_type": "order.created"})
    clock.shift(DELAYS_MS[0] / 1000 * 1.2 + 1)
    handler.run_due()
    assert received(receiver, "b") == []  # a retry is no failure yet

    through_the_schedule(clock)

    [sent] = received(receiver, "b")
    payload = {
        "event_type": DELIVERY_FAILED,
        "hook_id": a["id"],
        "delivery_id": delivery_id_for(a["id"], event_id),
        "event_id": event_id,
        "attempts": 8,
        "last_status_code": 502,
        "last_error": None,
    }
    assert json.loads(sent.body) == notice_as_sent(sent, payload)
    Webhook(b["secret"]).verify(sent.body, sent.headers)
    assert len(received(receiver, "a")) == 8 and received(receiver, "c") == []
    assert deliveries(acme, c["id"]) == []
    assert stored_events("acme") == [event_id]


def test_a_last_attempt_that_never_finished_is_told_as_a_failure(acme, receiver, stream_records, clock):
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[DELIVERY_FAILED])
    receiver.answer = answering(a=502)
    [event_id] = ingest(acme, "acme", stream_records, {"n": 1})
    for delay in DELAYS_MS[:-1]:
        clock.shift(delay / 1000 * 1.2 + 1)
        handler.run_due()
    clock.shift(DELAYS_MS[-1] / 1000 * 1.2 + 1)
    [entry] = due_entries()
    assert dispatch.claim_due(*entry, {}) is not None  # the 8th attempt, whose process dies
    clock.shift(lifecycle.claim_ms() / 1000 + 1)

    handler.run_due()  # lapses it: failed
    handler.run_due()

    [sent] = received(receiver, "b")
    Webhook(b["secret"]).verify(sent.body, sent.headers)
    assert json.loads(sent.body)["payload"] == {
        "event_type": DELIVERY_FAILED,
        "hook_id": a["id"],
        "delivery_id": delivery_id_for(a["id"], event_id),
        "event_id": event_id,
        "attempts": 8,
        "last_status_code": None,
        "last_error": lifecycle.NOT_FINISHED,
    }


def test_a_notice_whose_delivery_fails_is_told_to_no_hook(acme, receiver, stream_records, clock):
    hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[HOOK_DISABLED])
    c = hook(acme, receiver, "c", event_types=[DELIVERY_FAILED])
    receiver.answer = answering(a=410, b=502)
    ingest(acme, "acme", stream_records, {"n": 1})
    handler.run_due()

    through_the_schedule(clock)

    [failed] = deliveries(acme, b["id"])
    assert (failed["status"], failed["attempts"], failed["last_status_code"]) == ("failed", 8, 502)
    assert received(receiver, "c") == [] and deliveries(acme, c["id"]) == []


def test_a_failed_delivery_of_an_event_typed_triggerapi_is_told_to_no_hook(acme, receiver, stream_records, clock):
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[DELIVERY_FAILED])
    receiver.answer = answering(a=502)
    ingest(acme, "acme", stream_records, {"event_type": "triggerapi.mine"})

    through_the_schedule(clock)

    assert [x["status"] for x in deliveries(acme, a["id"])] == ["failed"]
    assert received(receiver, "b") == [] and deliveries(acme, b["id"]) == []


def gone(hook: Hook) -> None:
    """An attempt to `hook` answered 410, as the dispatcher then tells hooks/outcomes.py."""
    at = now_ms()
    outcomes.hook_after(hook, AttemptResult(410, None, 0, b"", at, schedule.GONE, None))


@pytest.mark.parametrize("operation", ["UpdateItem", "TransactWriteItems"])
def test_a_write_whose_answer_was_lost_makes_one_notice(operation, acme, receiver, monkeypatch):
    """UpdateItem: the hook's disabling, retried, finds its own write; TransactWriteItems: the
    notice's delivery, the same. Either way one notice, and its hook's lane marked."""
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[HOOK_DISABLED])

    with inject("lost", at=1, operation=operation) as injector:
        gone(Hook.get("acme", Hook.key_for(a["id"])))
    assert injector.faulted == [operation]

    assert acme.get(f"/v1/hooks/{a['id']}").json()["disabled_reason"] == "gone"
    assert len(deliveries(acme, b["id"])) == 1
    handler.run_due()
    [sent] = received(receiver, "b")
    assert json.loads(sent.body)["payload"] == {"event_type": HOOK_DISABLED, "hook_id": a["id"], "reason": "gone"}


def test_a_store_down_while_a_notice_is_made_costs_the_notice_not_the_disabling(acme, receiver, monkeypatch):
    monkeypatch.setattr(store, "_backoff", lambda attempt: 0)
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[HOOK_DISABLED])

    with inject("refused", at=1, down=True, operation="Query"):
        gone(Hook.get("acme", Hook.key_for(a["id"])))

    assert acme.get(f"/v1/hooks/{a['id']}").json()["disabled_reason"] == "gone"
    assert deliveries(acme, b["id"]) == []


def test_a_hook_disabled_since_the_hooks_were_read_is_owed_no_notice(acme, receiver, monkeypatch):
    a = hook(acme, receiver, "a")
    b = hook(acme, receiver, "b", event_types=[HOOK_DISABLED])
    as_read = hooks_active(tenant_id="acme")
    acme.patch(f"/v1/hooks/{b['id']}", {"status": "disabled"}, format="json")
    monkeypatch.setattr(notices, "hooks_active", lambda tenant_id: as_read)

    gone(Hook.get("acme", Hook.key_for(a["id"])))

    assert acme.get(f"/v1/hooks/{a['id']}").json()["disabled_reason"] == "gone"
    assert deliveries(acme, b["id"]) == []
