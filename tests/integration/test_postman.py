"""docs/postman_collection.json: it covers every endpoint of the contract, hooks and what a
tenant sees included, and newman runs it, tests and all, against gunicorn on a moto server."""

import json
import re
import subprocess

import pytest

from devstack.processes import ROOT, hooks_env, manage, start_api
from tests.hooks.receiver import Receiver
from tests.test_openapi import CONTRACT, HOOKS, OBSERVE

COLLECTION = ROOT / "docs" / "postman_collection.json"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
REPORT = ROOT / "test-artifacts" / "newman.json"
# A path segment naming something (a literal id or a {{variable}}) and the schema's name for it.
PARAMETERS = ((r"^(hook_|\{\{hook_id\}\})", "{hook_id}"), (r"^dlv_", "{delivery_id}"), (r"^(evt_|\{\{)", "{event_id}"))


def collection_requests() -> list[dict]:
    return [item for folder in json.loads(COLLECTION.read_text())["item"] for item in folder["item"]]


def segment(part: str) -> str:
    return next((name for pattern, name in PARAMETERS if re.match(pattern, part)), part)


def endpoint(request: dict) -> tuple[str, str]:
    return request["method"].lower(), "/" + "/".join(segment(part) for part in request["url"]["path"])


@pytest.fixture(scope="module")
def stack(dynamodb_url):
    """Tables of their own and the API, accepting a hook on a loopback http:// receiver (as
    `make run` does), so that the Hooks folder's create and test go through."""
    env = hooks_env(dynamodb_url)
    manage(env, "create_tables")
    api, url = start_api(env, workers=1)
    yield env, url
    api.stop()


def issue(env: dict, tenant: str) -> str:
    return json.loads(manage(env, "issue_key", tenant, "--scopes", "ingest,consume,hooks", "--json"))["key"]


def test_the_collection_covers_every_endpoint_with_tests_and_a_saved_example():
    items = collection_requests()

    # Beyond the contract, only the request that shows a 405.
    assert {endpoint(item["request"]) for item in items} - (CONTRACT | HOOKS | OBSERVE) == {("put", "/v1/events")}
    assert {endpoint(item["request"]) for item in items} >= CONTRACT | HOOKS | OBSERVE
    assert [item["name"] for item in items if not item["response"]] == []
    assert [item["name"] for item in items if "pm.response.to.have.status" not in json.dumps(item["event"])] == []


def test_newman_runs_the_collection_against_a_live_server_with_no_failure(stack):
    assert NEWMAN.exists(), "newman is missing: `npm ci` installs it (make test does)"
    env, url = stack
    REPORT.parent.mkdir(exist_ok=True)
    with Receiver() as receiver:
        variables = {
            "api_url": url,
            "api_key": issue(env, "postman-acme"),
            "other_api_key": issue(env, "postman-globex"),
            "hook_target_url": receiver.url("/hook"),
        }
        args = [str(NEWMAN), "run", str(COLLECTION), "--color", "off", "--reporters", "cli,json"]
        args += ["--reporter-json-export", str(REPORT)]
        args += [arg for name, value in variables.items() for arg in ("--env-var", f"{name}={value}")]

        result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    stats = json.loads(REPORT.read_text())["run"]["stats"]
    assert stats["requests"] == {"total": len(collection_requests()), "pending": 0, "failed": 0}
    assert stats["assertions"]["failed"] == 0 and stats["assertions"]["total"] > 2 * len(collection_requests())
    # "Send a test event" reached the hook's target, and nothing else did.
    assert [json.loads(request.body)["payload"]["event_type"] for request in receiver.requests] == ["triggerapi.test"]
