"""Attempts count when they start, through the real stack (the API under gunicorn, the local
store, `run_deliveries` as a process, a receiver in this process): a runner killed while its
attempts hang leaves them counted, and the next attempt comes on the schedule; a runner that
cannot open the hooks' secrets says so apart from receivers' failures and, with --once,
exits 1."""

import json
import signal
import subprocess
import sys
import time

import pytest

from devstack import processes
from devstack.processes import ROOT, Api, Child, hooks_env, manage, start_api
from tests.hooks.receiver import Receiver, hang, status

TIMEOUT_SECONDS = 2
# A claim lasts the attempt's timeout and 5 s to record it; then the schedule's first delay.
CLAIM_SECONDS = TIMEOUT_SECONDS + 5
FIRST_DELAY_SECONDS = 5
SECRET_UNREADABLE = "The hook's secret cannot be opened with this SECRET_KEY or its fallbacks."


@pytest.fixture(scope="module")
def stack(dynamodb_url):
    """Tables of their own and the API; `run_deliveries` runs only where a test starts it."""
    env = hooks_env(dynamodb_url, HOOKS_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS))
    manage(env, "create_tables")
    api, url = start_api(env)
    assert once(env).returncode == 0  # the first start reads the stream from its end: from here on
    yield env, url
    api.stop()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def once(env: dict, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "run_deliveries", "--once"],
        cwd=ROOT,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


def start(env: dict, *args: str) -> Child:
    child = Child([sys.executable, "manage.py", "run_deliveries", *args], env, r"Delivering from")
    child.wait_ready()
    return child


def tenant(stack) -> Api:
    env, url = stack
    key = json.loads(manage(env, "issue_key", f"t{time.monotonic_ns()}", "--json"))["key"]
    return Api(url, key)


def subscribe(api: Api, target_url: str) -> dict:
    response = api.post("/v1/hooks", json={"target_url": target_url})
    assert response.status_code == 201, response.text
    return response.json()


def ingest(api: Api, count: int) -> list[str]:
    return [api.post("/v1/events", json={"n": n}).json()["id"] for n in range(count)]


def deliveries(api: Api, hook_id: str, **query) -> list[dict]:
    return api.get(f"/v1/hooks/{hook_id}/deliveries", params=query).json()["deliveries"]


def test_a_runner_that_cannot_open_the_secrets_reports_it_apart_and_exits_1(stack, receiver):
    env, _ = stack
    api = tenant(stack)
    hook = subscribe(api, receiver.url("/never"))
    [event_id] = ingest(api, 1)

    result = once(env, SECRET_KEY="not-the-key-that-sealed-them")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Attempts: 0 succeeded, 0 failed at their receivers, 1 could not be made." in result.stdout
    assert f"1 attempt could not be made: {SECRET_UNREADABLE}" in result.stderr
    assert "Traceback" not in result.stderr
    assert receiver.requests == []
    [delivery] = deliveries(api, hook["id"])
    assert (delivery["event_id"], delivery["status"], delivery["attempts"]) == (event_id, "pending", 1)
    assert (delivery["last_status_code"], delivery["last_error"]) == (None, SECRET_UNREADABLE)


def test_attempts_killed_while_they_hang_count_and_the_next_comes_on_the_schedule(stack, receiver):
    env, _ = stack
    api = tenant(stack)
    hook = subscribe(api, receiver.url("/slow"))
    receiver.answer = hang(receiver)
    ids = ingest(api, 5)
    killed = start(env, "--once")
    processes.wait_for(lambda: len(receiver.requests) == 5, "5 attempts hanging", 60)
    killed.process.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)

    counted = deliveries(api, hook["id"])
    assert sorted((d["event_id"], d["status"], d["attempts"], d["last_error"]) for d in counted) == [
        (event_id, "pending", 1, None) for event_id in sorted(ids)
    ]

    receiver.answer = status(200)
    restarted = start(env)
    try:
        done = processes.wait_for(
            lambda: len(found := deliveries(api, hook["id"], status="succeeded")) == 5 and found, "5 succeeded", 90
        )
    finally:
        restarted.process.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0
    assert {(d["attempts"], d["last_status_code"]) for d in done} == {(2, 200)}
    sent: dict[str, list[int]] = {}
    for request in receiver.requests:
        sent.setdefault(request.headers["webhook-id"], []).append(int(request.headers["webhook-timestamp"]))
    assert sorted(sent) == sorted(ids) and {len(times) for times in sent.values()} == {2}
    # The killed attempt's claim ran out, then the schedule's first delay (less its 20 % jitter).
    waited = min(second - first for first, second in sent.values())
    assert waited >= CLAIM_SECONDS + FIRST_DELAY_SECONDS * 0.8 - 1, waited
