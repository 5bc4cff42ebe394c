"""Push delivery through the real stack (a moto server process, the API under gunicorn 2x8,
`run_deliveries` as a process, one receiver in this process): for each event, the time from
its 201 to its webhook's arrival at the receiver, with events sent at a steady RATE per second
for SECONDS; then deliveries per second to one hook, for a burst sent as fast as 8 clients
can."""

import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.processes import Api, Child, manage, server_env, start_api, start_store  # noqa: E402
from tests.hooks.receiver import Receiver  # noqa: E402

RATE = int(os.environ.get("BENCH_WEBHOOK_RATE", 50))
SECONDS = float(os.environ.get("BENCH_SECONDS", 20))
BURST = int(os.environ.get("BENCH_WEBHOOK_BURST", 500))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(arrived: dict, send, count: int, workers: int, rate: float | None = None) -> tuple[list[float], float]:
    """Latencies (ms) and the seconds from the first send to the last arrival. With `rate`,
    event n is sent at n / rate seconds (8 clients keep the pace); else as fast as possible."""
    created: dict[str, float] = {}
    start = time.monotonic()

    def post(n):
        if rate:
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
        event_id = send()
        created[event_id] = time.monotonic()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(post, range(count)))
    deadline = time.monotonic() + 60
    while not set(created) <= set(arrived) and time.monotonic() < deadline:
        time.sleep(0.05)
    last = max((arrived[i] for i in created if i in arrived), default=time.monotonic())
    return [(arrived[i] - at) * 1000 for i, at in created.items() if i in arrived], last - start


def report(what: str, latencies: list[float], sent: int) -> None:
    print(f"{what}: {len(latencies)}/{sent} delivered")
    print(
        f"  201 -> webhook at the receiver: p50 {statistics.median(latencies):.0f} ms  "
        f"p99 {percentile(latencies, 99):.0f} ms  max {max(latencies):.0f} ms"
    )


@contextmanager
def pushing_to_a_receiver(env: dict, url: str, tenant: str):
    """`run_deliveries` and a receiver that notes when each webhook-id first arrived; yields
    (send, arrived): send() ingests one event of a fresh tenant whose hook is the receiver."""
    deliveries = Child([sys.executable, "manage.py", "run_deliveries"], env, r"Delivering from")
    deliveries.wait_ready()
    arrived: dict[str, float] = {}
    lock = threading.Lock()
    try:
        with Receiver() as receiver:
            original = receiver.answer

            def answer(handler):
                with lock:
                    arrived.setdefault(handler.headers["webhook-id"], time.monotonic())
                original(handler)

            receiver.answer = answer
            api = Api(url, json.loads(manage(env, "issue_key", tenant, "--json"))["key"])
            api.post("/v1/hooks", json={"target_url": receiver.url("/bench")}).raise_for_status()

            def send() -> str:
                response = api.post("/v1/events", json={"event_type": "bench", "n": 1})
                response.raise_for_status()
                return response.json()["id"]

            yield send, arrived
    finally:
        deliveries.stop()


def main() -> None:
    store, store_url = start_store()
    env = server_env(store_url, HOOKS_ALLOW_HTTP="true", HOOKS_ALLOW_PRIVATE_TARGETS="true")
    manage(env, "create_tables")
    server, url = start_api(env)
    try:
        with pushing_to_a_receiver(env, url, "bench") as (send, arrived):
            steady = int(RATE * SECONDS)
            latencies, _ = measure(arrived, send, steady, workers=8, rate=RATE)
            setup = "gunicorn 2x8, run_deliveries, moto server"
            report(f"webhooks, {RATE} events/s for {SECONDS:g} s to one hook ({setup})", latencies, steady)
            latencies, elapsed = measure(arrived, send, BURST, workers=8)
            report(f"webhooks, a burst of {BURST} events from 8 clients", latencies, BURST)
            print(f"  {len(latencies) / elapsed:.0f} deliveries/s to one hook (first send to last arrival)")
    finally:
        server.stop()
        store.stop()


if __name__ == "__main__":
    main()
