"""The cap on a tenant's waiting claims (LIMITS.md, "Waiting claims"), in process: places are
taken only by claims that wait, given back when the wait ends, dropped once a killed
holder's time is up (moved clock), fought over with conditional writes, and a store that
fails gives a 503, never a 500. Places "held by other processes" are taken with the service
itself, each with its own end, as a claim in another process would take them."""

import logging
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import time_machine

from events.services import event_claim, event_create
from limits import places
from limits.models import WAITING_KEY, WaitingClaims
from limits.selectors import tenant_limits_forget
from limits.waiting import GRACE_MS, waiting_claim_release, waiting_claim_take, waiting_place
from tests.store_hooks import fake_response, hooked, store_calls, store_failing
from triggerapi.exceptions import RateLimited, ServiceUnavailable
from triggerapi.store import ConditionFailed, now_ms

CAP = 10  # TENANT_MAX_WAITING_CLAIMS's default
START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def holders(tenant_id: str = "acme") -> dict[str, int]:
    try:
        item = WaitingClaims.get(WaitingClaims.key_for(tenant_id), WAITING_KEY, consistent_read=True)
    except WaitingClaims.DoesNotExist:
        return {}
    return {holder: int(until) for holder, until in item.holders.as_dict().items()}


def fill(tenant_id: str = "acme", *, first_ends_in_ms: int = 3_000, count: int = CAP) -> list[str]:
    """`count` places held by waits ending 1 s apart, the first `first_ends_in_ms` from now."""
    ids = [f"elsewhere-{n}" for n in range(count)]
    for n, claim_id in enumerate(ids):
        waiting_claim_take(tenant_id=tenant_id, claim_id=claim_id, wait_ends_ms=now_ms() + first_ends_in_ms + n * 1000)
    return ids


@contextmanager
def place_calls():
    """The store calls on the tenants' places (the rate limiter's, also counted apart, are
    left out: a request through the API may take a grant of tokens)."""
    calls: list[str] = []

    def record(params, model, **_):
        if WaitingClaims.key_for("") in str(params.get("Key", "")):
            calls.append(model.name)

    with hooked("before-parameter-build.dynamodb", record):
        yield calls


def claim(client, **body):
    started = time.monotonic()
    response = client.post("/v1/events/claim", body, format="json")
    return response, time.monotonic() - started


def test_the_11th_waiting_claim_is_429_at_once_with_retry_after_until_the_first_wait_ends(acme, clock):
    fill(first_ends_in_ms=2_400)

    response, took = claim(acme, wait_seconds=20)

    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "code": "rate_limited",
            "message": f"This tenant already has {CAP} claims waiting, its limit; claim without wait_seconds, "
            "or retry after the given delay.",
            "details": {"limit": "waiting_claims"},
        }
    }
    assert response["Retry-After"] == "3"  # 2.4 s, rounded up
    assert took < 1
    assert len(holders()) == CAP


def test_retry_after_is_at_least_1_while_a_killed_holders_place_runs_out_its_grace(clock):
    fill(first_ends_in_ms=1_000)
    clock.shift(1.5)  # the first wait is over, but its holder never gave the place back

    with pytest.raises(RateLimited) as refused:
        waiting_claim_take(tenant_id="acme", claim_id="late", wait_ends_ms=now_ms() + 20_000)

    assert refused.value.wait == 1


def test_a_claim_that_finds_events_at_once_takes_no_place_even_at_the_cap(acme):
    fill()
    event_id = event_create(tenant_id="acme", payload={"n": 1}).receipts[0]["id"]

    with place_calls() as calls:
        response, _ = claim(acme, wait_seconds=20)

    assert (response.status_code, [e["id"] for e in response.json()["events"]]) == (200, [event_id])
    assert calls == []


def test_a_claim_without_wait_seconds_takes_no_place(acme):
    fill()

    with place_calls() as calls:
        response, _ = claim(acme)

    assert (response.status_code, response.json(), calls) == (200, {"events": []}, [])


def test_a_wait_that_runs_out_gives_its_place_back():
    with store_calls(apart=True) as limit_calls:
        assert event_claim(tenant_id="acme", wait_seconds=1) == []

    assert holders() == {}
    # The tenant's limits; its first place ever (a write finding no item, the one creating
    # it); the write that gives the place back.
    assert dict(limit_calls) == {"GetItem": 1, "UpdateItem": 3}
    with store_calls(apart=True) as limit_calls:
        assert event_claim(tenant_id="acme", wait_seconds=1) == []
    assert dict(limit_calls) == {"UpdateItem": 2}  # take and give back: the limits are cached


def test_a_wait_that_finds_an_event_gives_its_place_back():
    started = now_ms()
    result: dict = {}
    waiter = threading.Thread(target=lambda: result.update(events=event_claim(tenant_id="acme", wait_seconds=20)))
    waiter.start()
    wait_until(lambda: len(holders()) == 1, "the claim's place")
    [until] = holders().values()

    event_id = event_create(tenant_id="acme", payload={"n": 1}).receipts[0]["id"]
    waiter.join()

    assert [event.event_id for event in result["events"]] == [event_id]
    assert holders() == {}
    assert started + 20_000 < until <= now_ms() + 20_000 + GRACE_MS


def test_a_wait_that_fails_gives_its_place_back():
    def fail_the_second_query(model, **kwargs):
        if model.name == "Query":
            queries.append(model.name)
            if len(queries) == 2:
                raise RuntimeError("a bug, mid-wait")

    queries: list[str] = []
    with hooked("before-call.dynamodb", fail_the_second_query), pytest.raises(RuntimeError):
        event_claim(tenant_id="acme", wait_seconds=5)

    assert len(queries) == 2 and holders() == {}


def test_the_places_of_a_killed_process_come_back_once_their_wait_and_grace_are_over(clock):
    fill(first_ends_in_ms=1_000)  # never given back: their process was killed
    clock.shift((1_000 + GRACE_MS) / 1000 - 0.001)
    with pytest.raises(RateLimited):
        waiting_claim_take(tenant_id="acme", claim_id="too-soon", wait_ends_ms=now_ms() + 20_000)

    clock.shift(0.002)
    waiting_claim_take(tenant_id="acme", claim_id="new", wait_ends_ms=now_ms() + 20_000)

    assert set(holders()) == {f"elsewhere-{n}" for n in range(1, CAP)} | {"new"}
    assert holders()["new"] == now_ms() + 20_000 + GRACE_MS


def test_another_tenants_waits_are_not_counted(globex):
    fill("acme")

    with store_calls(apart=True):
        response, _ = claim(globex, wait_seconds=1)

    assert (response.status_code, response.json()) == (200, {"events": []})
    assert len(holders("acme")) == CAP and holders("globex") == {}


@contextmanager
def one_store_call_at_a_time():
    """moto's in-process backend takes no lock; DynamoDB applies each conditional write
    atomically. Serialising the calls, as devstack.localstore does, gives moto that."""
    lock = threading.Lock()

    def take_turn(**kwargs):
        lock.acquire()  # and answer nothing: a before-call handler's answer replaces the call's

    def end_turn(**kwargs):
        lock.release()

    with hooked("before-call.dynamodb", take_turn), hooked("after-call.dynamodb", end_turn):
        yield


def test_two_takers_writing_at_once_for_the_last_place_get_it_once():
    fill(count=CAP - 1)
    both_writing = threading.Barrier(2)

    def write_together(model, **kwargs):
        if model.name == "UpdateItem":
            both_writing.wait(timeout=10)

    outcomes: dict[str, str] = {}

    def take(claim_id):
        try:
            waiting_claim_take(tenant_id="acme", claim_id=claim_id, wait_ends_ms=now_ms() + 20_000)
            outcomes[claim_id] = "taken"
        except RateLimited:
            outcomes[claim_id] = "429"

    takers = [threading.Thread(target=take, args=(claim_id,)) for claim_id in ("one", "two")]
    with hooked("before-parameter-build.dynamodb", write_together), one_store_call_at_a_time():
        for taker in takers:
            taker.start()
        for taker in takers:
            taker.join()

    assert sorted(outcomes.values()) == ["429", "taken"]
    [winner] = [claim_id for claim_id, outcome in outcomes.items() if outcome == "taken"]
    assert len(holders()) == CAP and winner in holders()


def test_ten_takers_writing_at_once_all_get_a_place_at_their_first_write():
    all_writing = threading.Barrier(CAP)

    def write_together(model, **kwargs):
        if model.name == "UpdateItem":
            all_writing.wait(timeout=10)

    fill(count=1)  # the item exists, so each taker's first write is its only one
    waiting_claim_release(tenant_id="acme", claim_id="elsewhere-0")
    until = now_ms() + 20_000
    takers = [
        threading.Thread(
            target=waiting_claim_take, kwargs={"tenant_id": "acme", "claim_id": f"t{n}", "wait_ends_ms": until}
        )
        for n in range(CAP)
    ]
    with (
        store_calls(apart=True) as limit_calls,
        hooked("before-parameter-build.dynamodb", write_together),
        one_store_call_at_a_time(),
    ):
        for taker in takers:
            taker.start()
        for taker in takers:
            taker.join()

    assert set(holders()) == {f"t{n}" for n in range(CAP)}
    assert dict(limit_calls) == {"UpdateItem": CAP}


@pytest.mark.parametrize("operation", ["GetItem", "UpdateItem"])
def test_a_store_that_fails_to_give_a_place_is_a_503_not_a_500(acme, operation):
    assert acme.get("/v1/me").status_code == 200  # the key is verified and cached
    tenant_limits_forget(tenant_id="acme")  # the tenant's limits are read again (GetItem)

    with store_failing("InternalServerError", operations={operation}):
        response, _ = claim(acme, wait_seconds=5)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["details"] == {"write": "not_applied"}
    assert response["Retry-After"] == "1"


def test_a_place_not_given_back_is_logged_and_the_claim_still_answers(acme, caplog):
    def fail_the_release(model, params, **kwargs):
        if model.name == "UpdateItem" and b"REMOVE" in params["body"]:
            return fake_response(500), {"Error": {"Code": "InternalServerError", "Message": "injected"}}
        return None

    assert acme.get("/v1/me").status_code == 200
    with hooked("before-call.dynamodb", fail_the_release), caplog.at_level(logging.WARNING):
        response, _ = claim(acme, wait_seconds=1)

    assert (response.status_code, response.json()) == (200, {"events": []})
    assert "A waiting claim's place was not given back" in caplog.text
    assert len(holders()) == 1  # until it expires


def test_a_process_holding_all_the_waits_it_may_answers_503_and_takes_no_place(acme, settings, clock):
    settings.WAITING_CLAIMS_PER_PROCESS = 2
    with (
        waiting_place(tenant_id="globex", wait_ends_ms=now_ms() + 4_500),
        waiting_place(tenant_id="initech", wait_ends_ms=now_ms() + 9_000),
    ):
        response, took = claim(acme, wait_seconds=20)

    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"write": "not_applied"}
    assert "holding as many waiting claims as it can" in response.json()["error"]["message"]
    assert response["Retry-After"] == "5"
    assert took < 1 and holders("acme") == {}


def wait_until(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.01)


def test_a_503_of_its_own_when_the_places_keep_changing(monkeypatch):
    expired_each_time = {"holders": {"M": {"gone": {"N": "1"}}}}

    def full_of_expired_places(*args):
        raise ConditionFailed(expired_each_time, uncertain=False)

    monkeypatch.setattr(places.Places, "_add", full_of_expired_places)
    monkeypatch.setattr(places.Places, "_drop", lambda *args: None)

    with pytest.raises(ServiceUnavailable) as unavailable:
        waiting_claim_take(tenant_id="acme", claim_id="unlucky", wait_ends_ms=now_ms() + 20_000)

    assert unavailable.value.details == {"write": "not_applied"}
