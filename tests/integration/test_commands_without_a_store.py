"""The management commands, run as processes, when the store cannot be used: nothing answers
at DYNAMODB_HOST, or there are no AWS credentials. One line and exit status 1, never a
traceback."""

import os
import socket
import subprocess
import sys

import pytest

from devstack.processes import ROOT
from triggerapi.store_errors import NO_CREDENTIALS

COMMANDS = [
    ["create_tables"],
    ["seed_tenants"],
    ["issue_key", "acme"],
    ["revoke_key", "tk_live_" + "A" * 43],
    ["list_keys"],
    ["run_deliveries", "--once"],
]


def clean_env(**extra: str) -> dict:
    """This process's environment without any store or AWS settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "DJANGO_SETTINGS_MODULE"}
    env.pop("DYNAMODB_HOST", None)
    return {**env, "AWS_REGION": "us-east-1", "TABLE_PREFIX": "Offline", **extra}


@pytest.fixture(scope="module")
def closed_port():
    """A port that is bound but not listening: connections to it are refused, and nothing
    else can take it while the tests run."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_command_with_nothing_answering_at_dynamodb_host_says_so_in_one_line(closed_port, command):
    host = f"http://127.0.0.1:{closed_port}"

    result = manage(clean_env(DYNAMODB_HOST=host), *command)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"CommandError: Nothing answers at DYNAMODB_HOST={host}: start the store there (make run starts one), "
        "or unset DYNAMODB_HOST to use AWS.\n"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_command_without_aws_credentials_says_so_in_one_line(tmp_path, command):
    nowhere = str(tmp_path / "none")
    env = clean_env(AWS_CONFIG_FILE=nowhere, AWS_SHARED_CREDENTIALS_FILE=nowhere, AWS_EC2_METADATA_DISABLED="true")

    result = manage(env, *command)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"CommandError: {NO_CREDENTIALS}\n"
