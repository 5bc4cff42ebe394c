"""The Zapier integration (integrations/zapier) run by Zapier's own SDK against the real
stack: the API under gunicorn, the local store and `run_deliveries` as a process, with local
http targets allowed (the instant trigger's Zap URL is a receiver inside the Node tests).
This test starts the stack, issues two tenants' keys and a revoked one, and runs the
integration's `npm test` (node --test with `createAppTester`) with them in the environment."""

import json
import re
import shutil
import subprocess
import time

import pytest

from devstack.processes import ROOT, manage

INTEGRATION = ROOT / "integrations" / "zapier"
# Every top-level `test(...)` of the integration's test files: all must run and pass.
NODE_TESTS = sum(
    len(re.findall(r"^test\(", path.read_text(), re.MULTILINE)) for path in (INTEGRATION / "test").glob("*.test.js")
)


@pytest.fixture(scope="module")
def stack(delivering_stack):
    return delivering_stack


def issue(env: dict, tenant: str) -> str:
    return json.loads(manage(env, "issue_key", tenant, "--scopes", "ingest,consume,hooks", "--json"))["key"]


def test_the_zapier_integration_passes_its_sdk_tests_against_the_live_stack(stack):
    assert (INTEGRATION / "node_modules" / "zapier-platform-core").exists(), (
        "zapier-platform-core is missing: `npm ci --prefix integrations/zapier` installs it (make test does)"
    )
    env, url, deliveries = stack
    suffix = time.monotonic_ns()
    revoked = issue(env, f"zap-revoked-{suffix}")
    manage(env, "revoke_key", revoked)
    node_env = {
        "PATH": env["PATH"],
        "HOME": env.get("HOME", "/tmp"),
        "NODE_ENV": "test",
        "API_URL": url,
        "API_KEY": issue(env, f"zap-acme-{suffix}"),
        "OTHER_API_KEY": issue(env, f"zap-globex-{suffix}"),
        "REVOKED_API_KEY": revoked,
    }

    result = subprocess.run(
        [shutil.which("npm") or "npm", "test", "--silent"],
        cwd=INTEGRATION,
        env=node_env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    output = result.stdout[-12000:] + result.stderr[-4000:] + "\nrun_deliveries:\n" + "".join(deliveries.lines[-40:])
    assert result.returncode == 0, output
    summary = {name: int(n) for name, n in re.findall(r"^ℹ (\w+) (\d+)$", result.stdout, re.MULTILINE)}
    assert summary["tests"] == summary["pass"] == NODE_TESTS, output
    assert summary["fail"] == summary["skipped"] == summary["todo"] == summary["cancelled"] == 0, output
