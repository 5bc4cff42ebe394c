"""Store faults over real sockets: gunicorn -> a misbehaving TCP proxy -> the local store.

The app runs with short timeouts here (0.5 s connect, 0.5 s read, 3 attempts, a 2 s budget)
so that a hanging store costs seconds, not the production 14; the bound they give is the
same formula the README states."""

import json
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.processes import Api, manage, server_env, start_api
from tests.integration.store_proxy import StoreProxy

TIMEOUTS = {
    "STORE_CONNECT_TIMEOUT_SECONDS": "0.5",
    "STORE_READ_TIMEOUT_SECONDS": "0.5",
    "STORE_ATTEMPTS": "3",
    "STORE_BUDGET_SECONDS": "2",
}
FAULT_KINDS = ("throttled", "error_500", "reset", "lost", "hang", "refused")
# No attempt starts after the budget, and one lasts at most connect + read timeout.
BOUND_SECONDS = 2 + 0.5 + 0.5


class Faults:
    """The proxy's policy, changed by each test."""

    def __init__(self):
        self.policy = lambda operation: None

    def __call__(self, operation: str) -> str | None:
        return self.policy(operation)


@pytest.fixture(scope="module")
def faults():
    return Faults()


@pytest.fixture(scope="module")
def proxy(dynamodb_url, faults):
    proxy = StoreProxy(dynamodb_url, faults)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def faulty_env(proxy) -> dict:
    env = server_env(proxy.url, **TIMEOUTS)
    manage(env, "create_tables")
    return env


@pytest.fixture(scope="module")
def faulty_url(faulty_env):
    # One process: one key cache, so a warmed key makes no store request in any test.
    api, url = start_api(faulty_env, workers=1)
    yield url
    api.stop()


@pytest.fixture
def api(faulty_env, faulty_url, faults) -> Api:
    """A new tenant, its key already verified by the server (so faults hit the action)."""
    faults.policy = lambda operation: None
    key = json.loads(manage(faulty_env, "issue_key", f"t-{uuid.uuid4().hex[:12]}", "--json"))["key"]
    api = Api(faulty_url, key)
    assert api.get("/v1/events", params={"limit": 1}).status_code == 200
    yield api
    faults.policy = lambda operation: None


def _only(operation: str, kind: str, times: int = 1):
    """`kind` for the first `times` requests of `operation`, then all is well."""
    left = [times]

    def policy(op: str) -> str | None:
        if op == operation and left[0] > 0:
            left[0] -= 1
            return kind
        return None

    return policy


def test_a_hanging_store_ends_a_write_within_the_bound_with_503(api, faults):
    before = api.get("/v1/events").json()["events"]
    faults.policy = lambda operation: "hang" if operation == "PutItem" else None

    started = time.monotonic()
    response = api.post("/v1/events", json={"n": 1})
    elapsed = time.monotonic() - started

    faults.policy = lambda operation: None
    assert response.status_code == 503, response.text
    assert response.json()["error"]["details"] == {"write": "unknown"}
    assert response.headers["Retry-After"] == "1"
    assert 0.5 <= elapsed <= BOUND_SECONDS + 0.5
    assert api.get("/v1/events").json()["events"] == before  # the hang applied nothing


def test_a_hanging_store_ends_a_read_within_the_bound_with_503(api, faults):
    faults.policy = lambda operation: "hang"

    started = time.monotonic()
    response = api.get("/v1/events")
    elapsed = time.monotonic() - started

    assert (response.status_code, response.json()["error"]["code"]) == (503, "service_unavailable")
    assert elapsed <= BOUND_SECONDS + 0.5


def test_a_store_that_is_gone_is_503_saying_nothing_was_written(api, proxy):
    before = api.get("/v1/events").json()["events"]
    proxy.go_down(seconds=3)

    started = time.monotonic()
    response = api.post("/v1/events", json={"n": 1})
    elapsed = time.monotonic() - started

    assert response.status_code == 503, response.text
    assert response.json()["error"]["details"] == {"write": "not_applied"}
    assert elapsed <= BOUND_SECONDS
    proxy.come_back()
    assert api.get("/v1/events").json()["events"] == before


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "lost-1"}], ids=["plain", "with-key"])
def test_a_create_whose_answer_was_lost_is_201_and_stored_once(api, faults, headers):
    before = {e["id"] for e in api.get("/v1/events", params={"limit": 100}).json()["events"]}
    operation = "TransactWriteItems" if headers else "PutItem"
    faults.policy = _only(operation, "lost")

    response = api.post("/v1/events", json={"n": "lost"}, headers=headers)

    assert response.status_code == 201, response.text
    after = {e["id"] for e in api.get("/v1/events", params={"limit": 100}).json()["events"]}
    assert after - before == {response.json()["id"]}


def test_a_delete_whose_answer_was_lost_is_204(api, faults):
    event_id = api.post("/v1/events", json={"n": 1}).json()["id"]
    faults.policy = _only("UpdateItem", "lost")

    response = api.delete(f"/v1/events/{event_id}")

    assert response.status_code == 204, response.text
    assert api.get(f"/v1/events/{event_id}").status_code == 404
    assert api.delete(f"/v1/events/{event_id}").status_code == 404


def test_a_batch_whose_record_answer_was_lost_goes_on_and_is_201(api, faults):
    body = {"events": [{"n": i} for i in range(30)]}
    faults.policy = _only("PutItem", "lost")

    response = api.post("/v1/events/batch", json=body, headers={"Idempotency-Key": "batch-lost"})
    again = api.post("/v1/events/batch", json=body, headers={"Idempotency-Key": "batch-lost"})

    assert response.status_code == 201, response.text
    assert (again.status_code, again.json()) == (200, response.json())


class Client:
    """A careful client: retries a 503 (after at most its Retry-After) with the same
    Idempotency-Key until it gets an answer, and remembers every status it saw."""

    def __init__(self, api: Api):
        self.api = api
        self.statuses: list[int] = []

    def send(self, method: str, path: str, body=None, key: str | None = None, deadline: float = 60):
        headers = {"Idempotency-Key": key} if key else {}
        give_up = time.monotonic() + deadline
        while True:
            response = self.api.session.request(
                method, self.api.base_url + path, json=body, headers=headers, timeout=30
            )
            self.statuses.append(response.status_code)
            if response.status_code != 503 or time.monotonic() > give_up:
                return response
            time.sleep(min(float(response.headers["Retry-After"]), 0.2))


def test_intermittent_faults_lose_nothing_and_store_each_key_once(api, faults, proxy):
    """20 % of store requests fail at random (every kind), through 300 ingest requests and
    the consumption of everything they stored."""
    rng = random.Random(20261129)
    lock = threading.Lock()

    def policy(operation: str) -> str | None:
        with lock:
            return rng.choice(FAULT_KINDS) if rng.random() < 0.2 else None

    proxy.down_seconds = 0.05
    faults.policy = policy
    client = Client(api)
    requests = [("/v1/events", {"key": f"k{i}"}, f"k{i}") for i in range(240)]
    requests += [
        ("/v1/events/batch", {"events": [{"key": f"b{i}", "n": n} for n in range(5)]}, f"b{i}") for i in range(60)
    ]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda r: client.send("POST", r[0], r[1], key=r[2]), requests))
    delivered = _consume(client)
    faults.policy = lambda operation: None

    assert set(client.statuses) <= {200, 201, 503}, Counter(client.statuses)
    assert all(a.status_code in (200, 201) for a in answers)
    stored = _all_events(api)
    payloads = Counter((e["payload"]["key"], e["payload"].get("n")) for e in stored)
    assert len(stored) == 240 + 300 and set(payloads.values()) == {1}, "an event stored twice or not at all"
    ids = {r["id"] for a in answers for r in (a.json()["events"] if "events" in a.json() else [a.json()])}
    assert ids == {e["id"] for e in stored}
    assert {e["status"] for e in stored} == {"delivered"} and delivered == ids
    assert all(e["lease_expires_at"] is None for e in stored)


def _consume(client: Client, deadline: float = 90) -> set[str]:
    """Claim with 2 s leases and ack, faults and all, until nothing is left undelivered: an
    event whose claim answer was lost is claimable again once that lease has run out."""
    delivered: set[str] = set()
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        claimed = client.send("POST", "/v1/events/claim", {"limit": 25, "lease_seconds": 2})
        ids = [e["id"] for e in claimed.json()["events"]] if claimed.status_code == 200 else []
        if ids:
            acked = client.send("POST", "/v1/events/ack", {"ids": ids})
            delivered.update(acked.json()["acknowledged"] if acked.status_code == 200 else [])
        elif not client.send("GET", "/v1/events?status=undelivered&limit=1").json().get("events", [None]):
            return delivered
        else:
            time.sleep(0.2)  # the server's clock runs leases out; there is no other clock to move
    return delivered


def _all_events(api: Api) -> list[dict]:
    events, cursor = [], None
    while True:
        page = api.get("/v1/events", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        events += page["events"]
        if not page["has_more"]:
            return events
        cursor = page["next_cursor"]
