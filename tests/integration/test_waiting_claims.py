"""The cap on a tenant's waiting claims through the real stack (gunicorn, the local store):
over the cap is 429 at once; the places of a server killed with SIGKILL come back within
their wait plus 5 s; and while one tenant sits at its cap, another's requests keep their
latency. The waits are real: waiting is the behaviour under test. The tenant's places are
read from the store itself, to know when every claim of a test is waiting."""

import functools
import os
import signal
import statistics
import threading
import time

import botocore.session
import pytest

from devstack.processes import Api, start_api, wait_for

CAP = 10  # TENANT_MAX_WAITING_CLAIMS's default
GRACE_SECONDS = 5
KILLED_WAIT = 4  # the wait of the claims whose server is killed


@functools.cache
def store_client(endpoint: str):
    return botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="l", aws_secret_access_key="l"
    )


def live_places(env: dict, tenant: str) -> int:
    """The tenant's places for waiting claims that have not expired, as the store holds them."""
    item = (
        store_client(env["DYNAMODB_HOST"])
        .get_item(
            TableName=f"{env['TABLE_PREFIX']}-Limits",
            Key={"pk": {"S": f"waiting#{tenant}"}, "sk": {"S": "claims"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    now_ms = time.time() * 1000
    return sum(1 for until in (item or {}).get("holders", {}).get("M", {}).values() if float(until["N"]) > now_ms)


class Waiting:
    """`count` claims of one tenant, each on its own connection, waiting `wait` seconds."""

    def __init__(self, url: str, key: str, count: int, wait: int):
        self.responses: list = []
        self.threads = [
            threading.Thread(target=self._claim, args=(Api(url, key), wait), daemon=True) for _ in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _claim(self, api: Api, wait: int) -> None:
        try:
            self.responses.append(api.post("/v1/events/claim", json={"wait_seconds": wait}))
        except Exception as exc:  # noqa: BLE001 - a killed server answers nothing
            self.responses.append(exc)

    def join(self) -> list:
        for thread in self.threads:
            thread.join(timeout=60)
        return self.responses


def timed_claim(api: Api, wait: int):
    started = time.monotonic()
    response = api.post("/v1/events/claim", json={"wait_seconds": wait})
    return response, time.monotonic() - started


def test_a_claim_over_the_tenants_cap_is_429_at_once_until_a_wait_ends(live_url, live_env, new_key):
    """On the tests' server: two processes, whose claims share the tenant's places."""
    tenant, key = new_key()
    waiting = Waiting(live_url, key, CAP, wait=10)
    wait_for(lambda: live_places(live_env, tenant) == CAP, "every claim waiting", seconds=8)

    response, took = timed_claim(Api(live_url, key), wait=10)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["details"] == {"limit": "waiting_claims"}
    assert took < 1
    assert 1 <= int(response.headers["Retry-After"]) <= 10  # until the first of the waits ends
    assert live_places(live_env, tenant) == CAP
    assert [r.status_code for r in waiting.join()] == [200] * CAP
    assert live_places(live_env, tenant) == 0
    assert timed_claim(Api(live_url, key), wait=1)[0].json() == {"events": []}


def test_the_places_of_a_killed_server_come_back_within_their_wait_and_5_s(live_url, live_env, new_key):
    tenant, key = new_key()
    doomed, doomed_url = start_api(live_env, workers=1)
    try:
        worker = int(doomed.line_with("Booting worker with pid").rsplit(":", 1)[1].split()[0])
        assert Api(doomed_url, key).get("/v1/me").status_code == 200  # warm: the key and limits cached
        taken = time.monotonic()
        Waiting(doomed_url, key, CAP, wait=KILLED_WAIT)
        wait_for(lambda: live_places(live_env, tenant) == CAP, "every claim waiting", seconds=KILLED_WAIT)
        print(f"all waiting {time.monotonic() - taken:.1f} s after the first claim was sent")
        # No finally runs: the worker and its master die at once.
        os.kill(worker, signal.SIGKILL)
        os.kill(doomed.process.pid, signal.SIGKILL)
    finally:
        doomed.stop()

    fresh = Api(live_url, key)

    def sent_and_accepted() -> float | None:
        sent = time.monotonic()
        return sent if timed_claim(fresh, wait=1)[0].status_code == 200 else None

    refused_first = timed_claim(fresh, wait=1)[0]
    accepted = wait_for(sent_and_accepted, "a place")
    print(f"a place came back {accepted - taken:.1f} s after the first claim was sent")

    assert refused_first.status_code == 429
    assert KILLED_WAIT + GRACE_SECONDS - 1 <= accepted - taken <= KILLED_WAIT + GRACE_SECONDS + 1.5


@pytest.fixture(scope="module")
def make_run_server(live_env):
    """A server shaped as `make run`'s: one process of API_THREADS threads."""
    api, url = start_api(live_env, workers=1)
    yield url
    api.stop()


def test_another_tenants_requests_keep_their_latency_while_one_tenant_sits_at_its_cap(
    make_run_server, live_env, new_key
):
    wait = 8
    quiet = Api(make_run_server, new_key()[1])
    quiet.get("/v1/me")  # warm: the key cache
    alone = requests_of(quiet, 30)
    noisy_tenant, noisy_key = new_key()
    started = time.monotonic()
    noisy = Waiting(make_run_server, noisy_key, CAP, wait=wait)
    wait_for(lambda: live_places(live_env, noisy_tenant) == CAP, "every claim waiting", seconds=5)
    # As many as fit while the claims surely wait (a loaded machine fits fewer), up to 30.
    beside = requests_of(quiet, 30, until=started + wait - 1.5)
    still_waiting = live_places(live_env, noisy_tenant)
    noisy.join()

    print(
        f"quiet tenant alone: p50 {p(alone, 50):.0f} ms, p99 {p(alone, 99):.0f} ms; beside {CAP} waiting claims: "
        f"p50 {p(beside, 50):.0f} ms, p99 {p(beside, 99):.0f} ms"
    )
    assert still_waiting == CAP, "the measurement did not run while the noisy tenant sat at its cap"
    assert len(beside) >= 10, "too few requests beside the waiting claims to say anything"
    # No request of the quiet tenant waited for a thread that a waiting claim held.
    assert max(beside) < wait * 1000 / 4
    assert statistics.median(beside) < max(5 * statistics.median(alone), 200)


def requests_of(api: Api, pairs: int, until: float | None = None) -> list[float]:
    """An ingest and a read, `pairs` times (fewer if `until`, a time.monotonic(), comes
    first): each request's latency, ms."""
    latencies = []
    for _ in range(pairs):
        if until is not None and time.monotonic() >= until:
            break
        started = time.perf_counter()
        created = api.post("/v1/events", json={"n": 1})
        latencies.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assert api.get(f"/v1/events/{created.json()['id']}").status_code == 200
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def p(values: list[float], percent: int) -> float:
    return sorted(values)[min(len(values) - 1, round(percent / 100 * (len(values) - 1)))]
