"""`make bench`: how fast the worker drains 3 tenants x 300 events with --once, through the
real stack (a moto server process, the API under gunicorn, `manage.py run_worker`)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.processes import ROOT, Api, manage, server_env, start_api, start_store  # noqa: E402

EVENTS_PER_TENANT = int(os.environ.get("BENCH_EVENTS", 300))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_events(url: str, keys: dict, per_tenant: int = EVENTS_PER_TENANT) -> None:
    for key in keys.values():
        for start in range(0, per_tenant, 100):
            batch = [{"event_type": "bench", "n": n} for n in range(start, min(start + 100, per_tenant))]
            Api(url, key).post("/v1/events/batch", json={"events": batch}).raise_for_status()


def main() -> None:
    store, store_url = start_store()
    env = server_env(store_url)
    manage(env, "create_tables")
    api, url = start_api(env)
    try:
        keys = {t["tenant"]: t["key"] for t in json.loads(manage(env, "seed_tenants", "--json"))["tenants"]}
        print(f"{len(keys)} tenants x {EVENTS_PER_TENANT} events; API: gunicorn 2x8 threads; store: moto server")
        for batch in (10, 100):
            post_events(url, keys)
            run(env, url, keys, batch, store.process.pid)
    finally:
        api.stop()
        store.stop()


def run(env: dict, url: str, keys: dict, batch: int, store_pid: int) -> tuple[int, float, float]:
    """Runs the worker once over the tenants; prints and returns (events acked, seconds, store
    CPU seconds)."""
    args = ["--once", "--batch", str(batch), "--api-url", url]
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
    print(
        f"run_worker --once --batch {batch}: {total[2]} events acked in {elapsed:.2f}s "
        f"= {int(total[2]) / elapsed:.0f} events/s (store CPU {cpu_seconds(store_pid) - store_cpu:.1f}s)"
    )
    return int(total[2]), elapsed, cpu_seconds(store_pid) - store_cpu


if __name__ == "__main__":
    main()
