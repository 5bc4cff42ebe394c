"""The worker against a live API (gunicorn) on a moto server, as a command and as processes."""

import json
import signal
import subprocess
import sys
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from devstack.processes import ROOT, Api, Child, manage, server_env, start_api
from events.worker import lambda_drain
from tests.integration import handlers

MAX_ATTEMPTS = 3


@pytest.fixture(scope="module")
def stack(dynamodb_url):
    """A stack of its own (fresh tables) so the seeded tenants start empty."""
    env = server_env(dynamodb_url, MAX_ATTEMPTS=str(MAX_ATTEMPTS))
    manage(env, "create_tables")
    api, url = start_api(env)
    seeded = json.loads(manage(env, "seed_tenants", "--json"))["tenants"]
    yield {"env": env, "url": url, "keys": {t["tenant"]: t["key"] for t in seeded}}
    api.stop()


def post_events(stack, tenant: str, payloads: list[dict]) -> list[str]:
    api = Api(stack["url"], stack["keys"][tenant])
    ids = []
    for start in range(0, len(payloads), 100):
        response = api.post("/v1/events/batch", json={"events": payloads[start : start + 100]})
        ids += [r["id"] for r in response.json()["events"]]
    return ids


def status_of(stack, tenant: str, ids) -> dict[str, str]:
    """The status of each of these events (the tenant may have others)."""
    api, found, cursor, ids = Api(stack["url"], stack["keys"][tenant]), {}, None, set(ids)
    while True:
        body = api.get("/v1/events", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        found.update((e["id"], e["status"]) for e in body["events"] if e["id"] in ids)
        if not body["has_more"]:
            return found
        cursor = body["next_cursor"]


def statuses(stack, tenant: str, ids) -> Counter:
    return Counter(status_of(stack, tenant, ids).values())


def worker_args(stack, *tenants: str) -> list[str]:
    args = ["--api-url", stack["url"]]
    for tenant in tenants:
        args += ["--api-key", stack["keys"][tenant], "--tenant-name", tenant]
    return args


def test_once_delivers_three_tenants_events_each_handled_once_by_its_own_tenant(stack):
    created = {tenant: set(post_events(stack, tenant, [{"n": i} for i in range(100)])) for tenant in stack["keys"]}
    handlers.calls.clear()

    out = run_in_process(stack, "count_by_thread", *created)

    assert Counter(event_id for _, event_id in handlers.calls).most_common(1)[0][1] == 1
    for tenant, ids in created.items():
        assert {event_id for name, event_id in handlers.calls if name == tenant} == ids
        assert statuses(stack, tenant, ids) == {"delivered": 100}
    assert summary_row(out, "total") == ["300", "300", "0", "0"]


def summary_row(output: str, name: str) -> list[str]:
    """claimed, acked, released, failed from the summary table's row for `name`."""
    rows = [line.split() for line in output.splitlines() if line.split()[:1] == [name] and "claimed " not in line]
    return rows[-1][1:5]


def run_in_process(stack, handler: str, *tenants: str, retry_delay: int = 5) -> str:
    """`run_worker --once` through call_command, with a handler from tests.integration.handlers."""
    out = StringIO()
    call_command(
        "run_worker",
        "--once",
        "--handler",
        f"tests.integration.handlers.{handler}",
        "--retry-delay",
        str(retry_delay),
        *worker_args(stack, *tenants),
        stdout=out,
    )
    return out.getvalue()


def run_worker_process(stack, *args: str, env: dict | None = None, ready: str = r"^tenant\s+claimed") -> Child:
    command = [sys.executable, "manage.py", "run_worker", *args]
    return Child(command, {**stack["env"], **(env or {})}, ready)


def test_two_worker_processes_on_one_tenant_handle_every_event_once(stack, tmp_path):
    ids = post_events(stack, "globex", [{"n": i} for i in range(200)])
    record = ["--once", "--handler", "tests.integration.handlers.record"]
    log = {"HANDLED_LOG": str(tmp_path / "handled.log")}
    by_flags = run_worker_process(stack, *record, *worker_args(stack, "globex"), env=log)
    # The other is configured as the original worker was: by environment variables.
    by_env = run_worker_process(
        stack,
        *record,
        env={**log, "API_URL": stack["url"], "API_KEYS": stack["keys"]["globex"], "TENANT_NAMES": "globex"},
    )

    for child in (by_flags, by_env):
        assert child.wait(timeout=120) == 0, "".join(child.lines)
    handled = (tmp_path / "handled.log").read_text().split()
    assert Counter(handled) == Counter(ids)
    assert statuses(stack, "globex", ids) == {"delivered": 200}


def test_failing_events_are_released_retried_and_end_failed_the_rest_delivered(stack):
    payloads = [{"n": i, "fail": i % 10 == 0} for i in range(50)]
    ids = post_events(stack, "initech", payloads)
    failing = {event_id for event_id, p in zip(ids, payloads, strict=True) if p["fail"]}
    handlers.calls.clear()

    # Given back at once (no --retry-delay), so one --once run sees every attempt.
    out = run_in_process(stack, "fail_marked", "initech", retry_delay=0)

    handled = Counter(event_id for _, event_id in handlers.calls)
    assert {event_id: handled[event_id] for event_id in failing} == {event_id: MAX_ATTEMPTS for event_id in failing}
    assert {handled[event_id] for event_id in set(ids) - failing} == {1}
    api = Api(stack["url"], stack["keys"]["initech"])
    failed = api.get("/v1/events", params={"status": "failed", "limit": 100}).json()["events"]
    assert {e["id"] for e in failed} == failing and {e["attempts"] for e in failed} == {MAX_ATTEMPTS}
    assert statuses(stack, "initech", ids) == {"delivered": 45, "failed": 5}
    assert summary_row(out, "initech") == ["60", "45", "15", "15"]


def test_sigterm_mid_batch_exits_0_and_a_second_run_delivers_the_rest(stack, tmp_path):
    ids = post_events(stack, "acme", [{"n": i} for i in range(30)])
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    worker = run_worker_process(
        stack,
        "--handler",
        "tests.integration.handlers.record_slowly",
        "--lease",
        "600",
        *worker_args(stack, "acme"),
        env={"HANDLED_LOG": str(first_log)},
        ready=r"recorded #3 ",
    )
    worker.wait_ready()

    worker.process.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=60) == 0, "".join(worker.lines)
    assert any(line.startswith("tenant") for line in worker.lines), "no summary printed"
    assert any(line.startswith("Stopping: finishing what is in hand") for line in worker.lines)
    handled_first = first_log.read_text().split()
    delivered = {event_id for event_id, status in status_of(stack, "acme", ids).items() if status == "delivered"}
    assert delivered == set(handled_first), "an event was acked that the handler did not finish"
    assert 3 <= len(handled_first) < 30

    second = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "run_worker",
            "--once",
            "--handler",
            "tests.integration.handlers.record",
            *worker_args(stack, "acme"),
        ],
        cwd=ROOT,
        env={**stack["env"], "HANDLED_LOG": str(second_log)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert second.returncode == 0, second.stdout + second.stderr
    handled_second = second_log.read_text().split()
    assert sorted(handled_first + handled_second) == sorted(ids), "an event was lost or handled twice"
    assert statuses(stack, "acme", ids) == {"delivered": 30}


def test_wrong_key_is_reported_exits_1_and_other_tenants_are_served(stack, tmp_path):
    ids = post_events(stack, "globex", [{"n": i} for i in range(20)])
    args = [*worker_args(stack, "globex"), "--api-key", "tk_live_" + "x" * 43, "--tenant-name", "wrong"]

    result = subprocess.run(
        [sys.executable, "manage.py", "run_worker", "--once", "--handler", "tests.integration.handlers.record", *args],
        cwd=ROOT,
        env={**stack["env"], "HANDLED_LOG": str(tmp_path / "h.log")},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "wrong: the API key was rejected (401 authentication_failed: Unknown or revoked API key.)" in result.stdout
    assert sorted((tmp_path / "h.log").read_text().split()) == sorted(ids)


class LambdaContext:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_lambda_drain_drains_configured_tenants_and_returns_a_summary(stack, monkeypatch):
    ids = post_events(stack, "initech", [{"n": i} for i in range(15)])
    monkeypatch.setenv("API_URL", stack["url"])
    monkeypatch.setenv("API_KEYS", stack["keys"]["initech"])
    monkeypatch.setenv("TENANT_NAMES", "initech")

    summary = lambda_drain({"source": "aws.events"}, LambdaContext())

    assert summary == {"initech": {"claimed": 15, "acked": 15, "released": 0, "outcome": "drained"}}
    assert statuses(stack, "initech", ids) == {"delivered": 15}
