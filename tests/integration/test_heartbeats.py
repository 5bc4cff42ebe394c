"""Leases that outlive their handlers, over real HTTP: the worker's heartbeat keeps every
event of a batch leased while its handler runs for longer than the lease, and the lease
races end the only way they may."""

import json
import subprocess
import sys
import time
from collections import Counter

import pytest

from devstack.processes import ROOT, Api, manage, server_env, start_api
from tests.integration.test_concurrency import race


@pytest.fixture(scope="module")
def stack(dynamodb_url):
    env = server_env(dynamodb_url)
    manage(env, "create_tables")
    api, url = start_api(env)
    yield {"env": env, "url": url}
    api.stop()


@pytest.fixture
def tenant(stack) -> tuple[str, Api]:
    key = json.loads(manage(stack["env"], "issue_key", "t-beat", "--json"))["key"]
    return key, Api(stack["url"], key)


def test_four_workers_with_4_s_leases_and_5_s_handlers_handle_every_event_exactly_once(stack, tenant, tmp_path):
    """Each handler outlives its lease, and the events behind it in its batch wait longer
    still; the heartbeat extends every lease of the batch every 2 s, which leaves each
    extend 2 s to land (on a loaded machine, half of a 1 s lease was not enough)."""
    key, api = tenant
    ids = [
        r["id"] for r in api.post("/v1/events/batch", json={"events": [{"n": i} for i in range(12)]}).json()["events"]
    ]
    log = tmp_path / "handled.log"
    command = [sys.executable, "manage.py", "run_worker", "--once", "--api-url", stack["url"], "--api-key", key]
    command += ["--batch", "3", "--lease", "4", "--handler", "tests.integration.handlers.record_after_5_seconds"]

    workers = [
        subprocess.Popen(command, cwd=ROOT, env={**stack["env"], "HANDLED_LOG": str(log)}, stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    outputs = [worker.communicate(timeout=120)[0].decode() for worker in workers]

    assert [worker.returncode for worker in workers] == [0] * 4, outputs
    assert Counter(log.read_text().split()) == Counter(ids), "an event was handled twice or not at all"
    events = [api.get(f"/v1/events/{event_id}").json() for event_id in ids]
    assert {(e["status"], e["attempts"]) for e in events} == {("delivered", 1)}, "an event was handed out again"


def leases_of(api: Api, event_id: str, count: int) -> list[str]:
    """`count` leases on one event, one after the other (each released): all but the last are stale."""
    lease_ids = []
    for i in range(count):
        lease_ids.append(api.post("/v1/events/claim", json={"lease_seconds": 300}).json()["events"][0]["lease_id"])
        if i < count - 1:
            assert api.post(f"/v1/events/{event_id}/release", json={"lease_id": lease_ids[-1]}).status_code == 200
    return lease_ids


def test_of_eight_concurrent_extends_only_those_with_the_current_lease_win(tenant):
    _, api = tenant
    event_id = api.post("/v1/events", json={"n": 1}).json()["id"]
    *stale, current = leases_of(api, event_id, 5)
    tried = [current] * 3 + stale + [stale[0]]

    responses = race(8, lambda i: api.post(f"/v1/events/{event_id}/extend", json={"lease_id": tried[i]}))

    assert [r.status_code for r in responses] == [200] * 3 + [409] * 5
    assert {r.json()["lease_id"] for r in responses[:3]} == {current}
    # The lease ends when one of the winners said it would: each extend sets "now + 30 s" as
    # its request computed it, and the store applies them in its own order (so the last one
    # applied need not be the one computed last: they differ by milliseconds).
    assert api.get(f"/v1/events/{event_id}").json()["lease_expires_at"] in {
        r.json()["lease_expires_at"] for r in responses[:3]
    }


def test_no_lease_survives_an_ack_that_races_its_extends(tenant):
    _, api = tenant
    event_id = api.post("/v1/events", json={"n": 1}).json()["id"]
    [lease_id] = leases_of(api, event_id, 1)

    responses = race(
        8,
        lambda i: (
            api.post(f"/v1/events/{event_id}/ack")
            if i == 4
            else api.post(f"/v1/events/{event_id}/extend", json={"lease_id": lease_id})
        ),
    )

    assert responses[4].status_code == 200
    assert {r.status_code for i, r in enumerate(responses) if i != 4} <= {200, 409}
    after = api.get(f"/v1/events/{event_id}").json()
    assert (after["status"], after["lease_expires_at"]) == ("delivered", None)
    assert api.post(f"/v1/events/{event_id}/extend", json={"lease_id": lease_id}).status_code == 409


def test_a_stale_lease_never_extends_an_event_claimed_again_after_its_lease_ended(tenant):
    _, api = tenant
    event_id = api.post("/v1/events", json={"n": 1}).json()["id"]
    stale = api.post("/v1/events/claim", json={"lease_seconds": 1}).json()["events"][0]["lease_id"]
    time.sleep(1.1)  # the server's clock ends the lease; there is no other clock to move

    responses = race(
        6,
        lambda i: (
            api.post("/v1/events/claim", json={"lease_seconds": 300})
            if i == 0
            else api.post(f"/v1/events/{event_id}/extend", json={"lease_id": stale})
        ),
    )

    [reclaimed] = responses[0].json()["events"]
    assert reclaimed["lease_id"] != stale
    assert [r.status_code for r in responses[1:]] == [409] * 5
    after = api.get(f"/v1/events/{event_id}").json()
    assert (after["attempts"], after["lease_expires_at"]) == (2, reclaimed["lease_expires_at"])
