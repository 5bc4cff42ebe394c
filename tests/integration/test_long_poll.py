"""Long polling over real HTTP: gunicorn (one process, so its access log is one file) in
front of the local store. The waits are real: waiting is the behaviour under test."""

import json
import threading
import time

import pytest

from devstack.processes import Api, manage, server_env, start_api


@pytest.fixture(scope="module")
def server(dynamodb_url):
    env = server_env(dynamodb_url)
    manage(env, "create_tables")
    api, url = start_api(env, workers=1)
    yield {"env": env, "url": url, "child": api}
    api.stop()


@pytest.fixture
def api(server) -> Api:
    """A key the server has verified already, so a claim's store calls are its own."""
    api = Api(server["url"], json.loads(manage(server["env"], "issue_key", "t-poll", "--json"))["key"])
    assert api.get("/v1/me").status_code == 200
    return api


def claim_in_thread(api: Api, **body) -> dict:
    result: dict = {}

    def run():
        result["response"] = api.post("/v1/events/claim", json=body)
        result["returned"] = time.monotonic()

    result["thread"] = threading.Thread(target=run)
    result["thread"].start()
    return result


def access_line(server, request_id: str) -> dict:
    return json.loads(server["child"].line_with(request_id, '"triggerapi.access"'))


def test_an_event_ingested_1_s_into_a_10_s_wait_is_returned_within_500_ms_of_its_201(api):
    waiting = claim_in_thread(api, wait_seconds=10)
    time.sleep(1)  # the scenario: the event arrives one second into the wait

    created = api.post("/v1/events", json={"n": 1})
    answered = time.monotonic()
    waiting["thread"].join()

    assert created.status_code == 201
    assert [e["id"] for e in waiting["response"].json()["events"]] == [created.json()["id"]]
    assert waiting["returned"] - answered < 0.5


def test_an_empty_wait_answers_nothing_after_the_wait_with_at_most_4_queries_a_second(api, server):
    started = time.monotonic()
    response = api.post("/v1/events/claim", json={"wait_seconds": 2, "event_type": "none-such"})
    waited = time.monotonic() - started

    assert (response.status_code, response.json()) == (200, {"events": []})
    assert 2 <= waited < 3
    queries = access_line(server, response.headers["X-Request-ID"])["store_calls"]
    assert 2 <= queries <= 1 + 4 * 2


def test_another_tenants_event_does_not_end_the_wait(api, server):
    other = Api(server["url"], json.loads(manage(server["env"], "issue_key", "t-other", "--json"))["key"])
    waiting = claim_in_thread(api, wait_seconds=1)

    other.post("/v1/events", json={"n": 1})
    waiting["thread"].join()

    assert waiting["response"].json() == {"events": []}
