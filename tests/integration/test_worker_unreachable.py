"""`run_worker --once` against an API that does not answer ends, as a process: after a
bounded number of failed tries it exits 1 and says so."""

import socket
import subprocess
import sys
import time

from devstack.processes import ROOT


def test_once_against_a_closed_port_gives_up_after_five_tries_and_exits_1():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        command = [sys.executable, "manage.py", "run_worker", "--once", "--api-url", url, "--backoff", "0.01"]
        started = time.monotonic()
        result = subprocess.run(
            [*command, "--api-key", "tk_live_" + "x" * 43, "--tenant-name", "acme"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"acme: gave up after 5 failed tries in a row (the last: cannot connect to {url}); "
        "is the API up at --api-url (API_URL)? Stopping this tenant"
    ) in result.stdout.splitlines()
    assert "gave up: the API did not answer" in result.stdout.splitlines()[-1]
    retries = [line for line in result.stdout.splitlines() if "; retrying in " in line]
    assert len(retries) == 4 and all(line.startswith(f"acme: cannot connect to {url};") for line in retries)
    assert time.monotonic() - started < 30
