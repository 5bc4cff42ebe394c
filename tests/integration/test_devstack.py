"""`make run` (python -m devstack) as a person runs it: it serves and Ctrl-C stops
it all; with its port busy or a DYNAMODB_HOST where nothing answers, it fails at once, in
one line, before printing any key."""

import os
import signal
import socket
import subprocess
import sys

import pytest
import requests

from devstack.processes import ROOT, Child


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def devstack_env(**extra: str) -> dict:
    drop = ("DYNAMODB_HOST", "DJANGO_SETTINGS_MODULE", "TABLE_PREFIX", "SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "PORT": str(free_port()), "LOCAL_DYNAMODB_PORT": str(free_port()), **extra}


def devstack(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devstack"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_with_its_port_busy_make_run_fails_before_seeding_and_says_to_set_port(busy_port):
    result = devstack(devstack_env(PORT=str(busy_port)))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"make run: port {busy_port} is busy (another make run?), and the API needs it: "
        f"set PORT, e.g. `PORT={busy_port + 100} make run`.\n"
    )


def test_with_the_store_port_busy_make_run_says_to_set_local_dynamodb_port(busy_port):
    result = devstack(devstack_env(LOCAL_DYNAMODB_PORT=str(busy_port)))

    assert (result.returncode, result.stdout) == (1, "")
    assert "set LOCAL_DYNAMODB_PORT" in result.stderr and len(result.stderr.splitlines()) == 1


def test_port_equal_to_local_dynamodb_port_is_refused_before_anything_starts():
    port = free_port()

    result = devstack(devstack_env(PORT=str(port), LOCAL_DYNAMODB_PORT=str(port)))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"make run: PORT and LOCAL_DYNAMODB_PORT are both {port}: ")
    assert len(result.stderr.splitlines()) == 1


def test_the_busy_port_hint_never_suggests_the_other_port(busy_port):
    result = devstack(devstack_env(PORT=str(busy_port), LOCAL_DYNAMODB_PORT=str(busy_port + 100)))

    assert result.returncode == 1
    assert result.stderr.startswith(f"make run: port {busy_port} is busy")
    assert f"PORT={busy_port + 100} " not in result.stderr and f"PORT={busy_port + 200} make run" in result.stderr


def test_with_nothing_answering_at_dynamodb_host_make_run_says_so_in_one_line():
    url = f"http://127.0.0.1:{free_port()}"

    result = devstack(devstack_env(DYNAMODB_HOST=url))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"make run: nothing answers at DYNAMODB_HOST={url}: `unset DYNAMODB_HOST` and make run starts its own "
        "store, or start the store that should answer there.\n"
    )


def another_shell_opens_a_hook_secret(stack: Child, url: str, key: str) -> dict:
    """What another shell does with the export lines make run prints: manage.py against the
    same store, opening a hook secret the API sealed (it needs the same SECRET_KEY)."""
    exported = dict(
        line.strip().removeprefix("export ").split("=", 1)
        for line in stack.lines
        if line.strip().startswith(("export DYNAMODB_HOST=", "export SECRET_KEY="))
    )
    hook = requests.post(
        f"{url}/v1/hooks",
        json={"target_url": "http://127.0.0.1:9/in"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()
    own = ("DYNAMODB_HOST", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "TABLE_PREFIX")
    env = {k: v for k, v in os.environ.items() if k not in own}
    opened = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", OPEN_SECRET.format(hook_id=hook["id"])],
        cwd=ROOT,
        env={**env, **exported},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert opened.returncode == 0, opened.stderr
    return {"printed": hook["secret"], "opened": opened.stdout.strip()}


OPEN_SECRET = """
from hooks import vault
from hooks.models import Hook
hook = Hook.get("acme", Hook.key_for("{hook_id}"))
print(vault.unseal(hook.secret))
"""


def test_make_run_serves_the_seeded_tenants_and_ctrl_c_stops_everything():
    env = devstack_env()
    stack = Child([sys.executable, "-m", "devstack"], env, r"Listening at: (http://\S+)")
    url = stack.wait_ready().group(1)
    key = next(line.split("=", 1)[1].strip() for line in stack.lines if line.startswith("export ACME_API_KEY="))

    index = requests.get(f"{url}/", timeout=10)
    events = requests.get(f"{url}/v1/events", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    # Push delivery runs beside the API, reading the events table's stream.
    stack.line_with("Delivering from arn:aws:dynamodb:", seconds=60)
    joined = another_shell_opens_a_hook_secret(stack, url, key)
    stack.process.send_signal(signal.SIGINT)

    assert joined["printed"] == joined["opened"]
    assert url == f"http://127.0.0.1:{env['PORT']}"
    assert (index.status_code, events.status_code, events.json()["events"]) == (200, 200, [])
    try:
        status = stack.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise AssertionError("make run did not stop within 30 s of Ctrl-C:\n" + "".join(stack.lines[-40:])) from None
    assert status == 0
    # run_deliveries was stopped with one signal: it finished cleanly (no "Quitting at once").
    output = "".join(stack.lines)
    assert "Stopped: 0 records" in output and "Quitting at once" not in output
    # The other shell opened the hook secret with the checkout's key file, not an exported key.
    assert "export SECRET_KEY" not in output and "uses the one in .secret_key" in output
    for port in (env["PORT"], env["LOCAL_DYNAMODB_PORT"]):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", int(port)), timeout=2)
