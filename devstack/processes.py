"""Starting the real parts as processes, for the integration tests and the benchmarks alike:
the local store, the management commands run as a user runs them, and the app served by
gunicorn."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

from devstack import forked_commands

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60


class Child:
    """A child process whose output is drained on a thread (so it never blocks on a full
    pipe) and searched for the line that says it is ready."""

    stop_signal = signal.SIGTERM

    def __init__(self, args: list[str], env: dict, ready: str):
        self.lines: list[str] = []
        self._ready_re = re.compile(ready)
        self._match: re.Match | None = None
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if not self._ready.is_set() and (match := self._ready_re.search(line)):
                self._match = match
                self._ready.set()
        self._ready.set()

    def wait_ready(self) -> re.Match:
        self._ready.wait(STARTUP_SECONDS)
        if self._match is None:
            self.stop()
            raise RuntimeError("child did not start:\n" + "".join(self.lines[-50:]))
        return self._match

    def line_with(self, *parts: str, seconds: float = 10) -> str:
        """The first line holding every part, waited for: the output is read on another
        thread, so a line the process has written may not be in `lines` yet."""
        return wait_for(
            lambda: next((line for line in list(self.lines) if all(part in line for part in parts)), None),
            f"line with {parts}",
            seconds,
        )

    def wait(self, timeout: float) -> int:
        """The exit status, once every line the process wrote is in `lines`."""
        status = self.process.wait(timeout=timeout)
        self._drainer.join(timeout=10)
        return status

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
        self.wait(timeout=30)


class Server(Child):
    """gunicorn, stopped with SIGQUIT, its quick shutdown: on SIGTERM each worker keeps a
    connection kept alive in the last 2 s open for up to 2 s more (gthread's
    STOP_KEEPALIVE_LINGER), and a test's or benchmark's client always holds one, so every stop
    cost 2 s. Its workers then leave without joining their idle threads
    (devstack/gunicorn_quick_exit.py), their output flushed and their coverage saved."""

    stop_signal = signal.SIGQUIT


def start_store() -> tuple[Child, str]:
    store = Child([sys.executable, "-m", "devstack.localstore", "--port", "0"], dict(os.environ), r"listening on (\S+)")
    return store, store.wait_ready().group(1)


def server_env(dynamodb_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "AWS_PROFILE", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DYNAMODB_HOST=dynamodb_url,
        TABLE_PREFIX=f"It{uuid.uuid4().hex[:8]}",
        SECRET_KEY="integration-tests-secret",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        **extra,
    )
    return env


def hooks_env(dynamodb_url: str, **extra: str) -> dict:
    """server_env with webhooks allowed to reach this machine over http (a receiver in the
    tests' or the benchmark's process), as `make run` allows them."""
    return server_env(dynamodb_url, HOOKS_ALLOW_HTTP="true", HOOKS_ALLOW_PRIVATE_TARGETS="true", **extra)


def manage(env: dict, *args: str) -> str:
    """`python manage.py *args`'s output, which must succeed: a process each, forked from a
    server that has Django set up already (devstack/forked_commands.py)."""
    result = forked_commands.run(env, args)
    assert result.returncode == 0, result.stderr
    return result.stdout


# A waiting claim holds its request thread for up to 20 s. Each server process has
# REQUEST_THREADS more threads than it lets claims wait (WAITING_CLAIMS_PER_PROCESS), so
# requests that do not wait always find one (README, "Waiting claims").
API_THREADS = 32
REQUEST_THREADS = 8
WAITING_CLAIMS_PER_PROCESS = API_THREADS - REQUEST_THREADS


def api_env(env: dict, threads: int) -> dict:
    """The server's environment, with its bound on waiting claims per process (the caller's
    own, if it sets one)."""
    return {"WAITING_CLAIMS_PER_PROCESS": str(max(1, threads - REQUEST_THREADS)), **env}


def start_api(env: dict, workers: int = 2, threads: int = API_THREADS) -> tuple[Server, str]:
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "triggerapi.wsgi",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        # gunicorn's control socket is one path per user (~/.gunicorn): servers must not share it.
        "--no-control-socket",
        "--config",
        "python:devstack.gunicorn_quick_exit",
        # The longest list URL the schema allows (a 255-character event_type, percent-encoded
        # UTF-8, and its cursor) is about 5 KB; gunicorn's default refuses request lines over
        # 4,094 bytes with an HTML 414 the app never sees. 8,190 is gunicorn's own maximum.
        "--limit-request-line",
        "8190",
    ]
    api = Server(args, api_env(env, threads), r"Listening at: (http://\S+)")
    return api, api.wait_ready().group(1)


class Api:
    """requests against the live server as one tenant."""

    def __init__(self, base_url: str, key: str | None):
        self.base_url = base_url
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def __getattr__(self, method):
        return lambda path, **kwargs: self.session.request(method.upper(), self.base_url + path, timeout=30, **kwargs)


def wait_for(condition, what: str, seconds: float = 30):
    """Polls `condition` until it returns something true (and returns that), or fails after
    `seconds`: how tests wait for another process, never with a bare sleep."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {seconds} s")
