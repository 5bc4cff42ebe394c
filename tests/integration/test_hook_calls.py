"""Webhook calls made inside a request through the real stack: two API servers (two
processes) on one store share a tenant's 2 places, so while a test runs on each, a third on
either is 429 `hook_test` at once; once they end, the places are back."""

import json
import threading
import time

import pytest

from devstack.processes import Api, hooks_env, manage, start_api, wait_for
from tests.hooks.receiver import Receiver, status


@pytest.fixture(scope="module")
def two_servers(dynamodb_url):
    env = hooks_env(dynamodb_url)
    manage(env, "create_tables")
    servers = [start_api(env, workers=1) for _ in range(2)]
    yield env, [url for _, url in servers]
    for server, _ in servers:
        server.stop()


def test_two_servers_share_the_tenants_places_for_webhook_calls(two_servers):
    env, urls = two_servers
    key = json.loads(manage(env, "issue_key", f"t{time.monotonic_ns()}", "--json"))["key"]
    first, second = Api(urls[0], key), Api(urls[1], key)
    answer = threading.Event()
    with Receiver() as receiver:
        receiver.answer = lambda handler: answer.wait(20) and status(200)(handler)
        hooks = [first.post("/v1/hooks", json={"target_url": receiver.url(f"/{n}")}).json()["id"] for n in range(3)]
        answered: dict[int, object] = {}

        def test(n: int, api: Api) -> None:
            answered[n] = api.post(f"/v1/hooks/{hooks[n]}/test")

        running = [threading.Thread(target=test, args=(n, api)) for n, api in ((0, first), (1, second))]
        for thread in running:
            thread.start()
        wait_for(lambda: len(receiver.requests) == 2, "a test running on each server")

        started = time.monotonic()
        thirds = [api.post(f"/v1/hooks/{hooks[2]}/test") for api in (first, second)]
        took = time.monotonic() - started

        answer.set()
        for thread in running:
            thread.join(timeout=30)
        after = second.post(f"/v1/hooks/{hooks[2]}/test")

    for third in thirds:
        assert third.status_code == 429, third.text
        assert third.json()["error"]["details"] == {"limit": "hook_test"}
        assert 1 <= int(third.headers["Retry-After"]) <= 15
    assert took < 2  # refused at once, not after waiting for a place
    assert [answered[n].json()["status_code"] for n in (0, 1)] == [200, 200]
    assert (after.status_code, after.json()["status_code"]) == (200, 200)
    assert [request.path for request in receiver.requests][2:] == ["/2"]
