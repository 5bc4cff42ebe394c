"""The request rate across processes (LIMITS.md), on two more API servers (gunicorn, one
worker each) on the stack's store and tables:

- a tenant at RATE requests a second (burst BURST) sent 3 times that for BENCH_SECONDS, 9
  of every 10 requests to the first server: accepted against its budget (rate x seconds +
  burst), and the limiter's store calls per request it sent;
- a quiet tenant (the stack's high default limits) at QUIET requests a second, alone (half
  before, half after) and while the other is being refused: its p50 and p99, and the p99's
  ratio. The load generator and every server share this machine's cores: the ratio holds
  their contention as much as the API's.

    python -m bench.limits     (a stack of its own; `make bench` runs it as section 7)
"""

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.harness import SECONDS, Stack, app_in_process, key_for, percentile, running_stack
from devstack.load import paced
from devstack.processes import start_api

RATE, BURST = 20, 20
QUIET = 20


class Timed:
    """POSTs an event as one tenant to `urls[pick(i)]`: (status, latency ms); a session a thread."""

    def __init__(self, key: str, urls: list[str], pick):
        self.key, self.urls, self.pick = key, urls, pick
        self.local = threading.local()

    def __call__(self, i: int) -> tuple[int, float]:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["Authorization"] = f"Bearer {self.key}"
        started = time.perf_counter()
        response = self.local.session.post(f"{self.urls[self.pick(i)]}/v1/events", json={"n": i}, timeout=60)
        return response.status_code, (time.perf_counter() - started) * 1000


def tenant(**limits: int) -> tuple[str, str]:
    """A new tenant, its key and its own `limits` (as `set_limits` sets them), in process."""
    from limits.services import tenant_limits_set

    name = f"bench-rate-{uuid.uuid4().hex[:6]}"
    key = key_for(name)
    if limits:
        tenant_limits_set(tenant_id=name, changes=limits)
    return name, key


def limiter_calls(servers, tenant_id: str) -> tuple[int, int]:
    """(limiter calls, requests) of the tenant, from the servers' access lines."""
    entries = [
        json.loads(line)
        for server in servers
        for line in list(server.lines)
        if '"triggerapi.access"' in line and f'"tenant": "{tenant_id}"' in line
    ]
    return sum(entry["limiter_calls"] for entry in entries), len(entries)


def section(stack: Stack) -> list[str]:
    started = [start_api(stack.env, workers=1, threads=8) for _ in range(2)]
    servers, urls = [server for server, _ in started], [url for _, url in started]
    try:
        noisy, noisy_key = tenant(rate=RATE, burst=BURST)
        _, quiet_key = tenant()
        _, warm_key = tenant()
        with ThreadPoolExecutor(16) as pool:  # each server thread's first requests open its connections
            list(pool.map(Timed(warm_key, urls, lambda i: i % 2), range(32)))
        quiet = Timed(quiet_key, urls, lambda i: i % 2)
        # Alone half before and half after, so that the machine's drift falls on both sides.
        alone = paced(quiet, per_second=QUIET, seconds=SECONDS / 2)
        with ThreadPoolExecutor(2) as pool:
            loud = pool.submit(
                paced, Timed(noisy_key, urls, lambda i: int(i % 10 == 0)), per_second=3 * RATE, seconds=SECONDS
            )
            calm = pool.submit(paced, quiet, per_second=QUIET, seconds=SECONDS)
            noisy_answers, beside = loud.result(), calm.result()
        alone += paced(quiet, per_second=QUIET, seconds=SECONDS / 2)
        calls, sent = limiter_calls(servers, noisy)
    finally:
        for server in servers:
            server.stop()
    return _lines(noisy_answers, alone, beside, calls, sent)


def _lines(noisy, alone, beside, calls: int, sent: int) -> list[str]:
    budget = RATE * SECONDS + BURST
    accepted = sum(1 for status, _ in noisy if status == 201)
    ratio = accepted / budget
    p99s = [percentile([ms for _, ms in run], 99) for run in (alone, beside)]
    quiet_met = "yes" if p99s[1] <= 1.25 * p99s[0] else "NO"
    refused_quiet = sum(1 for status, _ in alone + beside if status != 201)
    lines = [
        f"\n7. request rate, two API processes (gunicorn 1x8 each) on one store: a tenant at {RATE}/s (burst {BURST}) "
        f"sent {3 * RATE}/s for {SECONDS:g} s, 9:1 between them: {accepted} accepted of a budget of {budget:g} = "
        f"{ratio:.2f}x (target 0.8-1.25: {'yes' if 0.8 <= ratio <= 1.25 else 'NO'}); limiter store calls per "
        f"request it sent: {calls / max(1, sent):.3f}",
        f"   a quiet tenant at {QUIET}/s: alone p50 {percentile([ms for _, ms in alone], 50):.1f} ms, p99 "
        f"{p99s[0]:.1f} ms; beside the refused one p50 {percentile([ms for _, ms in beside], 50):.1f} ms, p99 "
        f"{p99s[1]:.1f} ms: p99 ratio {p99s[1] / p99s[0]:.2f} (target <= 1.25: {quiet_met})"
        f"; its requests refused or failed: {refused_quiet}",
    ]
    print("\n".join(line.strip() for line in lines), flush=True)
    return lines


if __name__ == "__main__":
    with running_stack() as stack:
        app_in_process(stack)
        section(stack)
