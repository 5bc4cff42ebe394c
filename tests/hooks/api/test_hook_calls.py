"""Webhook calls made inside a request (LIMITS.md): a hook's test and a manual retry hold one
of their tenant's 2 places while they run (a third at once is 429 `hook_test`, sending
nothing), give it back when they end, and a place whose process was killed comes back once
its call's longest time is over (moved clock). A hook is tested at most once per 5 s. Places
"held by other processes" are taken with the service itself, as a call elsewhere takes them."""

import threading
import time
from datetime import UTC, datetime

import pytest
import time_machine

from events import ids
from hooks.models import Hook
from limits.hook_calls import call_ms, hook_call_release, hook_call_take
from limits.models import HOOK_CALLS_KEY, HookCalls
from tests.hooks.api.test_deliveries import deliveries, ingest, subscribe
from tests.hooks.receiver import status
from tests.limits.test_waiting import one_store_call_at_a_time
from triggerapi.store import now_ms

START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
CALL_SECONDS = 5  # HOOKS_TIMEOUT_SECONDS, as local_targets sets it


@pytest.fixture
def clock(monkeypatch):
    """Stopped: the places' times are exact. Event ids made on it must not outlive the test."""
    monkeypatch.setattr(ids, "_last", 0)
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def places(tenant_id: str = "acme") -> dict[str, int]:
    try:
        item = HookCalls.get(HookCalls.key_for(tenant_id), HOOK_CALLS_KEY, consistent_read=True)
    except HookCalls.DoesNotExist:
        return {}
    return {holder: int(until) for holder, until in item.holders.as_dict().items()}


def held_elsewhere(count: int = 2, tenant_id: str = "acme") -> list[str]:
    """Places taken as calls running in other processes take them."""
    calls = [f"elsewhere-{n}" for n in range(count)]
    for call_id in calls:
        hook_call_take(tenant_id=tenant_id, call_id=call_id, until=now_ms() + call_ms())
    return calls


def refused_as_hook_test(response, message: str) -> None:
    assert (response.status_code, response.json()) == (
        429,
        {"error": {"code": "rate_limited", "message": message, "details": {"limit": "hook_test"}}},
    )


AT_THE_CAP = (
    "This tenant already has 2 webhook calls (tests or manual retries) running, its limit; retry after the given delay."
)


def wait_until(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.01)


def test_a_third_call_at_once_is_429_sends_nothing_and_the_places_come_back(client_for, receiver):
    clients = [client_for("acme") for _ in range(3)]
    hooks = [subscribe(clients[0], receiver)["id"] for _ in range(3)]
    answer = threading.Event()
    receiver.answer = lambda handler: answer.wait(10) and status(200)(handler)
    answered: dict[int, object] = {}

    def test(n: int) -> None:
        answered[n] = clients[n].post(f"/v1/hooks/{hooks[n]}/test")

    running = [threading.Thread(target=test, args=(n,)) for n in (0, 1)]
    with one_store_call_at_a_time():
        for thread in running:
            thread.start()
        wait_until(lambda: len(receiver.requests) == 2, "two tests at the receiver")

        third = clients[2].post(f"/v1/hooks/{hooks[2]}/test")

        answer.set()
        for thread in running:
            thread.join()

    refused_as_hook_test(third, AT_THE_CAP)
    assert 1 <= int(third["Retry-After"]) <= CALL_SECONDS  # until the first call's timeout at the latest
    assert len(receiver.requests) == 2
    assert [answered[n].status_code for n in (0, 1)] == [200, 200]
    assert places() == {}
    assert clients[2].post(f"/v1/hooks/{hooks[2]}/test").json()["status_code"] == 200


def test_a_manual_retry_at_the_cap_is_429_and_the_delivery_stays_failed(acme, receiver, stream_records):
    hook = subscribe(acme, receiver)
    receiver.answer = status(410)
    ingest(acme, "acme", stream_records, {"n": 1})
    acme.patch(f"/v1/hooks/{hook['id']}", {"status": "active"}, format="json")
    [failed] = deliveries(acme, hook["id"], status="failed")
    receiver.answer = status(200)
    elsewhere = held_elsewhere()

    refused = acme.post(f"/v1/hooks/{hook['id']}/deliveries/{failed['id']}/retry")
    after_refusal = acme.get(f"/v1/hooks/{hook['id']}/deliveries/{failed['id']}").json()
    sent = len(receiver.requests)
    for call_id in elsewhere:
        hook_call_release(tenant_id="acme", call_id=call_id)
    retried = acme.post(f"/v1/hooks/{hook['id']}/deliveries/{failed['id']}/retry")

    refused_as_hook_test(refused, AT_THE_CAP)
    assert after_refusal == failed and sent == 1  # the attempt answered 410, and no other
    assert (retried.status_code, retried.json()["status"], len(receiver.requests)) == (200, "succeeded", 2)
    assert places() == {}


def test_a_killed_processs_places_come_back_once_their_calls_longest_time_is_over(acme, receiver, clock):
    hook = subscribe(acme, receiver)
    held_elsewhere()  # never given back: their process was killed

    refused = acme.post(f"/v1/hooks/{hook['id']}/test")
    clock.shift(call_ms() / 1000 - 0.001)
    still = acme.post(f"/v1/hooks/{hook['id']}/test")
    clock.shift(0.002)
    accepted = acme.post(f"/v1/hooks/{hook['id']}/test")

    refused_as_hook_test(refused, AT_THE_CAP)
    assert refused["Retry-After"] == str(CALL_SECONDS)
    refused_as_hook_test(still, AT_THE_CAP)
    assert (accepted.status_code, accepted.json()["status_code"]) == (200, 200)
    assert len(receiver.requests) == 1 and places() == {}


def test_another_tenants_calls_take_none_of_its_places(acme, globex, receiver):
    hook = subscribe(globex, receiver)
    held_elsewhere(tenant_id="acme")

    assert globex.post(f"/v1/hooks/{hook['id']}/test").json()["status_code"] == 200


def test_a_hook_is_tested_at_most_once_per_5_s_and_others_meanwhile(acme, receiver, clock):
    first, other = subscribe(acme, receiver)["id"], subscribe(acme, receiver)["id"]

    sent = acme.post(f"/v1/hooks/{first}/test")
    clock.shift(2)
    again = acme.post(f"/v1/hooks/{first}/test")
    beside = acme.post(f"/v1/hooks/{other}/test")
    clock.shift(3)
    later = acme.post(f"/v1/hooks/{first}/test")

    assert [r.status_code for r in (sent, beside, later)] == [200, 200, 200]
    refused_as_hook_test(again, "This hook was tested less than 5 s ago; retry after the given delay.")
    assert again["Retry-After"] == "3"
    assert len(receiver.requests) == 3
    assert Hook.get("acme", Hook.key_for(first)).tested_at == now_ms()


def test_a_test_refused_for_want_of_a_place_leaves_the_hooks_turn(acme, receiver, clock):
    hook = subscribe(acme, receiver)["id"]
    elsewhere = held_elsewhere()

    refused = acme.post(f"/v1/hooks/{hook}/test")
    for call_id in elsewhere:
        hook_call_release(tenant_id="acme", call_id=call_id)
    accepted = acme.post(f"/v1/hooks/{hook}/test")

    refused_as_hook_test(refused, AT_THE_CAP)
    assert accepted.status_code == 200 and len(receiver.requests) == 1


def test_a_test_of_a_disabled_hook_takes_no_place(acme, receiver):
    hook = subscribe(acme, receiver)["id"]
    acme.patch(f"/v1/hooks/{hook}", {"status": "disabled"}, format="json")
    held_elsewhere()

    assert acme.post(f"/v1/hooks/{hook}/test").status_code == 409
