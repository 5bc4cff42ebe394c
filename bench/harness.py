"""What every benchmark shares: the knobs, the stack they run on (started once), the load
generator and how its latencies are summed up."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from devstack.processes import API_THREADS, ROOT, Child, manage, server_env, start_api, start_store

SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 8))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
THREADS = int(os.environ.get("BENCH_THREADS", API_THREADS))
SMOKE = SECONDS < 5
ARTIFACTS = ROOT / "test-artifacts" / "bench"
# Every tenant's request rate unless its own is set: far above what any scenario sends, so
# the limiter is on (and its cost measured) but refuses none of the benchmarks' own tenants.
HIGH_LIMITS = {"TENANT_RATE_LIMIT": "100000", "TENANT_RATE_BURST": "1000000", "TENANT_DELIVERIES_PER_SECOND": "10000"}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Stack:
    store: Child
    store_url: str
    env: dict
    api: Child
    url: str


@contextmanager
def running_stack() -> Iterator[Stack]:
    """The local store, its tables and the app under gunicorn (WORKERS x THREADS), stopped
    on leaving. Webhooks may target this machine (the webhook scenario's receiver); the
    access lines are logged (the store-call counts are read from them); tenants' request
    rates are HIGH_LIMITS unless set."""
    store, store_url = start_store()
    try:
        env = server_env(
            store_url, HOOKS_ALLOW_HTTP="true", HOOKS_ALLOW_PRIVATE_TARGETS="true", LOG_LEVEL="INFO", **HIGH_LIMITS
        )
        manage(env, "create_tables")
        api, url = start_api(env, workers=WORKERS, threads=THREADS)
        try:
            yield Stack(store, store_url, env, api, url)
        finally:
            api.stop()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "server.log").write_text("".join(api.lines))
    finally:
        store.stop()


def app_in_process(stack: Stack) -> None:
    """Django set up here against the stack's store: the scenarios issue keys and shape items
    with the app's own code."""
    os.environ.update({k: stack.env[k] for k in ("DYNAMODB_HOST", "TABLE_PREFIX", "SECRET_KEY")})
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["DJANGO_SETTINGS_MODULE"] = "triggerapi.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


# Interpreters started ahead of the section that reads them (start_early), by their arguments.
_EARLY: dict[tuple[str, ...], subprocess.Popen] = {}


def start_early(*args: str) -> None:
    """Starts `python -m *args` now, for run_module to collect later: the smoke run starts
    the sections that need no stack (moto in process) at its beginning, beside the rest."""
    _EARLY[args] = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_module(*args: str) -> subprocess.CompletedProcess:
    """`python -m *args` in an interpreter of its own (mock_aws patches the process it runs
    in): the one start_early started, or one started now."""
    if (started := _EARLY.pop(args, None)) is None:
        return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)
    out, err = started.communicate()
    return subprocess.CompletedProcess(started.args, started.returncode, out, err)


def key_for(tenant: str) -> str:
    """A key of every scope for `tenant` (created if new), issued in this process after
    app_in_process: `manage.py issue_key` is an interpreter and Django starting, about a
    second each, and fair.py alone issued twelve."""
    from tenants.models import SCOPES
    from tenants.services import api_key_issue

    return api_key_issue(tenant_id=tenant, scopes=SCOPES)[1]


@dataclass
class Measured:
    """`units` per second (events, or requests), requests' latencies in ms."""

    units: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: list[str] = field(default_factory=list)
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.units / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


def load(
    make_op: Callable[[int], Callable[[], int]], seconds: float = SECONDS, concurrency: int = CONCURRENCY
) -> Measured:
    """`concurrency` threads, each calling its own `make_op(n)()` (which returns the units
    it did) as fast as answers come, for `seconds` after every thread made one untimed call."""
    ops = [make_op(n) for n in range(concurrency)]
    ready = threading.Barrier(concurrency + 1)
    go = threading.Event()
    box = {}

    def run(n: int):
        op, latencies, units, errors = ops[n], [], 0, []
        try:
            op()  # warm: the connection, the key cache
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        ready.wait()
        go.wait()
        while time.monotonic() < box["stop"]:
            started = time.perf_counter()
            try:
                units += op()
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc)[:200])
                continue
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies, units, errors

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(run, n) for n in range(concurrency)]
        ready.wait()
        cpu, started = time.process_time(), time.monotonic()
        box["stop"] = started + seconds
        go.set()
        results = [f.result() for f in futures]
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu
    latencies = [ms for r in results for ms in r[0]]
    return Measured(
        units=sum(r[1] for r in results),
        requests=len(latencies),
        seconds=elapsed,
        latencies=latencies,
        errors=[e for r in results for e in r[2]],
        client_cpu=cpu,
    )
