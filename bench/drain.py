"""How fast `run_worker --once --batch 100` drains the demo tenants' inboxes through the real
stack (the worker as a process, against the API under gunicorn), with the store's CPU.

    python -m bench.drain     (a stack of its own; `make bench` runs it as section 6)
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import SMOKE, Stack, app_in_process, running_stack
from devstack.processes import ROOT, Api

PER_TENANT = 30 if SMOKE else 300
BATCH = 100


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_events(url: str, keys: dict, per_tenant: int) -> None:
    for key in keys.values():
        for start in range(0, per_tenant, 100):
            batch = [{"event_type": "bench", "n": n} for n in range(start, min(start + 100, per_tenant))]
            Api(url, key).post("/v1/events/batch", json={"events": batch}).raise_for_status()


def drain(env: dict, url: str, keys: dict, store_pid: int) -> tuple[int, float, float]:
    """Runs the worker once over the tenants: (events acked, seconds, store CPU seconds)."""
    args = ["--once", "--batch", str(BATCH), "--api-url", url]
    for name, key in keys.items():
        args += ["--api-key", key, "--tenant-name", name]
    store_cpu = cpu_seconds(store_pid)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "run_worker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    total = [line.split() for line in result.stdout.splitlines() if line.startswith("total")][-1]
    return int(total[2]), elapsed, cpu_seconds(store_pid) - store_cpu


def section(stack: Stack) -> list[str]:
    from tenants.services import tenants_seed  # as `manage.py seed_tenants` does, in process

    keys = {seeded.tenant_id: seeded.key for seeded in tenants_seed(rotate=False) if seeded.key}
    post_events(stack.url, keys, PER_TENANT)
    acked, elapsed, store_cpu = drain(stack.env, stack.url, keys, stack.store.process.pid)
    lines = [
        f"\n6. run_worker --once --batch {BATCH}, {len(keys)} tenants x {PER_TENANT}: {acked} events in "
        f"{elapsed:.2f} s = {acked / elapsed:.0f} events/s (store CPU {store_cpu:.1f} s; the time includes "
        "the worker's interpreter start)"
    ]
    print("\n".join(line.strip() for line in lines), flush=True)
    return lines


if __name__ == "__main__":
    with running_stack() as stack:
        app_in_process(stack)
        section(stack)
