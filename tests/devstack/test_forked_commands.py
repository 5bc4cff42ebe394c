"""devstack/forked_commands.py: a command run in a child forked from the server is answered
as `python manage.py` answers it (status, output and errors alike, one after another in one
server), and an environment whose server cannot start runs its commands as processes."""

import os
import socket
import subprocess
import sys

import pytest

from devstack import forked_commands
from devstack.processes import ROOT

COMMANDS = [
    ["help", "issue_key"],
    ["nonesuch"],
    ["set_limits", "Not A Tenant!"],
    ["issue_key", "acme", "--json"],
    ["list_keys"],
    ["help", "issue_key"],
]


@pytest.fixture(scope="module")
def env():
    """No store: nothing listens at DYNAMODB_HOST (a port bound, not listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        yield {**environment, "DYNAMODB_HOST": f"http://127.0.0.1:{sock.getsockname()[1]}", "TABLE_PREFIX": "Forked"}
    forked_commands._close_all()


def alone(env: dict, command: list[str]) -> tuple:
    result = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def test_each_command_is_answered_as_python_manage_py_answers_it(env):
    answers = [forked_commands.run(env, tuple(command)) for command in COMMANDS]

    assert [(a.returncode, a.stdout, a.stderr) for a in answers] == [alone(env, command) for command in COMMANDS]
    assert [a.returncode for a in answers] == [0, 1, 1, 1, 1, 0]
    assert forked_commands._servers[forked_commands._key(env)] is not None  # all in one server


def test_an_environment_whose_server_cannot_start_runs_its_commands_as_processes(env):
    broken = {**env, "DJANGO_SETTINGS_MODULE": "nonesuch.settings"}

    answer = forked_commands.run(broken, ("help",))

    assert forked_commands._servers[forked_commands._key(broken)] is None
    assert (answer.returncode, answer.stdout, answer.stderr) == alone(broken, ["help"])
    assert "settings are not properly configured (error: No module named 'nonesuch')" in answer.stdout
