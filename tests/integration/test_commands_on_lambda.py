"""`zappa manage prod seed_tenants` would print keys into CloudWatch: on Lambda the
key-printing commands exit 1 with a message, print no key and issue none."""

import subprocess
import sys

import pytest

from devstack.processes import ROOT, manage, server_env
from triggerapi.commands import KEYS_NOT_ON_LAMBDA

ON_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "triggerapi-prod"}


@pytest.fixture
def env(dynamodb_url) -> dict:
    env = server_env(dynamodb_url)
    manage(env, "create_tables")
    return env


@pytest.mark.parametrize("command", [["seed_tenants"], ["issue_key", "acme", "--json"]], ids=lambda c: c[0])
def test_a_key_printing_command_on_lambda_exits_1_and_issues_no_key(env, command):
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env={**env, **ON_LAMBDA}, capture_output=True, text=True
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"CommandError: {KEYS_NOT_ON_LAMBDA}\n"
    assert manage(env, "list_keys") == "No keys.\n"
