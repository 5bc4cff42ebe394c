"""`make run` (python -m triggerapi.devstack) as a person runs it: it serves and Ctrl-C stops
it all; with its port busy or a DYNAMODB_HOST where nothing answers, it fails at once, in
one line, before printing any key."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.integration.live import ROOT, Child


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
        [sys.executable, "-m", "triggerapi.devstack"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
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


def test_with_nothing_answering_at_dynamodb_host_make_run_says_so_in_one_line():
    url = f"http://127.0.0.1:{free_port()}"

    result = devstack(devstack_env(DYNAMODB_HOST=url))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"make run: nothing answers at DYNAMODB_HOST={url}: `unset DYNAMODB_HOST` and make run starts its own "
        "store, or start the store that should answer there.\n"
    )


def test_make_run_serves_the_seeded_tenants_and_ctrl_c_stops_everything():
    env = devstack_env()
    stack = Child([sys.executable, "-m", "triggerapi.devstack"], env, r"Listening at: (http://\S+)")
    url = stack.wait_ready().group(1)
    key = next(line.split("=", 1)[1].strip() for line in stack.lines if line.startswith("export ACME_API_KEY="))

    index = requests.get(f"{url}/", timeout=10)
    events = requests.get(f"{url}/v1/events", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    # Push delivery runs beside the API, reading the events table's stream.
    deadline = time.monotonic() + 60
    while not any(line.startswith("Delivering from arn:aws:dynamodb:") for line in stack.lines):
        assert time.monotonic() < deadline, "run_deliveries did not start:\n" + "".join(stack.lines[-30:])
        time.sleep(0.05)
    stack.process.send_signal(signal.SIGINT)

    assert url == f"http://127.0.0.1:{env['PORT']}"
    assert (index.status_code, events.status_code, events.json()["events"]) == (200, 200, [])
    try:
        status = stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise AssertionError("make run did not stop within 30 s of Ctrl-C:\n" + "".join(stack.lines[-40:])) from None
    assert status == 0
    # run_deliveries was stopped with one signal: it finished cleanly (no "Quitting at once").
    deadline = time.monotonic() + 10  # the last lines may still be on their way through the pipe
    while not any(line.startswith("Stopped: ") for line in stack.lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    output = "".join(stack.lines)
    assert "Stopped: 0 records" in output and "Quitting at once" not in output
    for port in (env["PORT"], env["LOCAL_DYNAMODB_PORT"]):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", int(port)), timeout=2)
