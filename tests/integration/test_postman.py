"""docs/postman_collection.json: it covers every endpoint of the contract, and newman runs
it, tests and all, against gunicorn on a moto server."""

import json
import re
import subprocess

from tests.integration.live import ROOT
from tests.test_openapi import CONTRACT

COLLECTION = ROOT / "docs" / "postman_collection.json"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
REPORT = ROOT / "test-artifacts" / "newman.json"


def collection_requests() -> list[dict]:
    return [item for folder in json.loads(COLLECTION.read_text())["item"] for item in folder["item"]]


def endpoint(request: dict) -> tuple[str, str]:
    segments = ["{event_id}" if re.match(r"^(evt_|\{\{)", part) else part for part in request["url"]["path"]]
    return request["method"].lower(), "/" + "/".join(segments)


def test_the_collection_covers_every_endpoint_with_tests_and_a_saved_example():
    items = collection_requests()

    # Beyond the contract, only the request that shows a 405.
    assert {endpoint(item["request"]) for item in items} - CONTRACT == {("put", "/v1/events")}
    assert {endpoint(item["request"]) for item in items} >= CONTRACT
    assert [item["name"] for item in items if not item["response"]] == []
    assert [item["name"] for item in items if "pm.response.to.have.status" not in json.dumps(item["event"])] == []


def test_newman_runs_the_collection_against_a_live_server_with_no_failure(live_url, new_key):
    assert NEWMAN.exists(), "newman is missing: `npm ci` installs it (make test does)"
    REPORT.parent.mkdir(exist_ok=True)
    variables = {"api_url": live_url, "api_key": new_key()[1], "other_api_key": new_key()[1]}
    args = [str(NEWMAN), "run", str(COLLECTION), "--color", "off", "--reporters", "cli,json"]
    args += ["--reporter-json-export", str(REPORT)]
    args += [arg for name, value in variables.items() for arg in ("--env-var", f"{name}={value}")]

    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    stats = json.loads(REPORT.read_text())["run"]["stats"]
    assert stats["requests"] == {"total": len(collection_requests()), "pending": 0, "failed": 0}
    assert stats["assertions"]["failed"] == 0 and stats["assertions"]["total"] > 2 * len(collection_requests())
