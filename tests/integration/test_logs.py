"""The logs of a live gunicorn server and of run_worker: one JSON line per request and per
worker batch, and no API key and no payload in them, whatever a client sends."""

import json
import subprocess
import sys

import pytest
import requests

from devstack.processes import ROOT, manage, server_env, start_api
from tests.emf import documents_in

MARKER = "payload-marker-4f1c9e"  # in every payload sent; must never reach a log
BAD_KEY = "tk_live_" + "b" * 43


@pytest.fixture(scope="module")
def server(dynamodb_url):
    env = server_env(dynamodb_url, LOG_LEVEL="INFO")
    manage(env, "create_tables")
    key = json.loads(manage(env, "issue_key", "acme", "--json"))["key"]
    api, url = start_api(env, workers=1)
    yield {"env": env, "url": url, "key": key, "api": api}
    api.stop()


def requests_a_client_might_send(url: str, key: str) -> list[requests.Response]:
    good = {"Authorization": f"Bearer {key}"}
    payload = {"event_type": "t", "secret": MARKER}
    created = requests.post(f"{url}/v1/events", json=payload, headers=good, timeout=10)
    send = [
        ("GET", f"/v1/events/{created.json()['id']}", {"headers": good}),
        ("GET", "/v1/events", {"headers": {"Authorization": f"Bearer {BAD_KEY}"}}),
        ("GET", "/v1/events", {"headers": {"Authorization": f"Token {key}"}}),
        ("GET", "/v1/events", {"headers": {"Authorization": key}}),
        ("GET", "/v1/events", {"headers": {"X-API-Key": key}}),
        ("GET", f"/v1/events?api_key={key}", {}),
        ("GET", f"/{key}", {"headers": good}),
        ("GET", "/health", {"headers": {"X-Request-ID": key}}),
        ("POST", "/v1/events", {"headers": {**good, "Content-Type": "application/json"}, "data": f'{{"{MARKER}": '}),
        ("POST", "/v1/events/batch", {"headers": good, "json": {"events": [payload, [MARKER]]}}),
        ("POST", "/v1/events", {"headers": {**good, "Content-Type": "text/plain"}, "data": MARKER}),
    ]
    return [created] + [requests.request(method, url + path, timeout=10, **kw) for method, path, kw in send]


def json_lines(output: list[str], logger: str) -> list[dict]:
    """Log lines of one logger (the metrics' EMF lines, also JSON, name none)."""
    lines = [json.loads(line) for line in output if line.startswith("{")]
    return [line for line in lines if line.get("logger") == logger]


def test_every_request_logs_one_json_line_and_no_key_or_payload_reaches_the_log(server):
    responses = requests_a_client_might_send(server["url"], server["key"])
    server["api"].stop()  # flushes and closes its output

    access = json_lines(server["api"].lines, "triggerapi.access")
    output = "".join(server["api"].lines)

    assert [r.status_code for r in responses] == [201, 200, 401, 401, 401, 401, 401, 404, 200, 400, 400, 415]
    assert [line["request_id"] for line in access] == [r.headers["X-Request-ID"] for r in responses]
    assert [(line["method"], line["route"], line["status"]) for line in access][:3] == [
        ("POST", "/v1/events", 201),
        ("GET", "/v1/events/{event_id}", 200),
        ("GET", "/v1/events", 401),
    ]
    assert [line["tenant"] for line in access][:3] == ["acme", "acme", None]
    assert all(isinstance(line["latency_ms"], float) and line["store_calls"] >= 0 for line in access)
    # The metrics' lines are their EMF objects alone, never wrapped in a log line.
    metrics = documents_in(server["api"].lines)
    assert [{k: v for k, v in line.items() if k != "_aws"} for line in metrics] == [{"tenant": "acme", "Ingested": 1}]
    assert (server["key"] in output, BAD_KEY in output, MARKER in output) == (False, False, False)


def test_run_worker_logs_one_json_line_per_batch_and_no_key_or_payload(server, dynamodb_url):
    env = server_env(dynamodb_url, LOG_LEVEL="INFO")
    manage(env, "create_tables")
    key = json.loads(manage(env, "issue_key", "globex", "--json"))["key"]
    api, url = start_api(env, workers=1)
    try:
        batch = {"events": [{"event_type": "t", "secret": MARKER, "n": n} for n in range(3)]}
        assert requests.post(f"{url}/v1/events/batch", json=batch, headers={"Authorization": f"Bearer {key}"}).ok
        result = subprocess.run(
            [sys.executable, "manage.py", "run_worker", "--once", "--api-url", url, "--api-key", key, "--batch", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        api.stop()

    batches = json_lines(result.stderr.splitlines(), "triggerapi.worker")
    batches = [line for line in batches if line["message"].startswith("batch ")]
    assert result.returncode == 0, result.stderr
    assert [(b["tenant"], b["claimed"], b["acked"], b["released"], b["failed"]) for b in batches] == [
        ("tenant-1", 2, 2, 0, 0),
        ("tenant-1", 1, 1, 0, 0),
    ]
    output = result.stdout + result.stderr + "".join(api.lines)
    assert (key in output, MARKER in output) == (False, False)
