"""Push delivery through the real stack (`run_deliveries` as a process, one receiver in this
process): for each event, the time from its 201 to its webhook's arrival at the receiver,
with events sent at a steady RATE per second for SECONDS; then deliveries per second to one
hook, for a burst sent as fast as 8 clients can.

    python -m bench.webhooks     (a stack of its own; `make bench` runs it as section 5)
"""

import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.harness import SECONDS, SMOKE, Stack, app_in_process, key_for, percentile, running_stack
from devstack.processes import Api, Child

# 20/s: about 6 store requests a delivery, moto answering one request at a time, give one
# hook about 30 deliveries/s through the local store (README, "How fast").
RATE = int(os.environ.get("BENCH_WEBHOOK_RATE", 20))
BURST = 20 if SMOKE else 200
CLIENTS = 8
# The receiver's path for this section's hook.
PATH = "/bench"


@contextmanager
def receiving():
    """Yields (base URL, {(path, webhook-id): first arrival}, open attempts by path, release):
    `/hang...` never answers until `release` is set, any other path answers 200 at once."""
    arrived: dict[tuple[str, str], float] = {}
    hanging: Counter = Counter()
    release = threading.Event()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                arrived.setdefault((self.path, self.headers["webhook-id"]), time.monotonic())
            if self.path.startswith("/hang"):
                with lock:
                    hanging[self.path] += 1
                release.wait()
                with lock:
                    hanging[self.path] -= 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # a burst of attempts connects at once

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", arrived, hanging, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def pushing_to_a_receiver(env: dict, url: str, tenant: str):
    """`run_deliveries` and a receiver; yields (send, arrived): send() ingests one event of a
    fresh tenant whose hook is the receiver and returns its id."""
    deliveries = Child([sys.executable, "manage.py", "run_deliveries"], env, r"Delivering from")
    deliveries.wait_ready()
    try:
        with receiving() as (base, arrived, _, _):
            api = Api(url, key_for(tenant))
            api.post("/v1/hooks", json={"target_url": f"{base}{PATH}"}).raise_for_status()

            def send() -> str:
                response = api.post("/v1/events", json={"event_type": "bench", "n": 1})
                response.raise_for_status()
                return response.json()["id"]

            yield send, arrived
    finally:
        deliveries.stop()


def measure(arrived: dict, send, count: int, rate: float | None = None) -> tuple[list[float], float]:
    """Latencies (ms) and the seconds from the first send to the last arrival. With `rate`,
    event n is sent at n / rate seconds (CLIENTS keep the pace); else as fast as possible."""
    created: dict[str, float] = {}
    start = time.monotonic()

    def post(n):
        if rate:
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
        event_id = send()
        created[event_id] = time.monotonic()

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(post, range(count)))
    deadline = time.monotonic() + 60
    at_receiver = {event_id: at for (path, event_id), at in list(arrived.items()) if path == PATH}
    while not set(created) <= set(at_receiver) and time.monotonic() < deadline:
        time.sleep(0.05)
        at_receiver = {event_id: at for (path, event_id), at in list(arrived.items()) if path == PATH}
    last = max((at_receiver[i] for i in created if i in at_receiver), default=time.monotonic())
    return [(at_receiver[i] - at) * 1000 for i, at in created.items() if i in at_receiver], last - start


def section(stack: Stack) -> list[str]:
    lines = []
    with pushing_to_a_receiver(stack.env, stack.url, "bench-hooks") as (send, arrived):
        steady = int(RATE * SECONDS)
        latencies, _ = measure(arrived, send, steady, rate=RATE)
        met = "yes" if percentile(latencies, 99) <= 1000 else "NO"
        lines.append(
            f"\n5. ingest -> first webhook attempt at the receiver, {RATE} events/s for {SECONDS:g} s: "
            f"{len(latencies)}/{steady} delivered, p50 {percentile(latencies, 50):.0f} ms, "
            f"p99 {percentile(latencies, 99):.0f} ms (target p99 <= 1000 ms: {met})"
        )
        latencies, elapsed = measure(arrived, send, BURST)
        lines.append(
            f"   a burst of {BURST} from {CLIENTS} clients: {len(latencies) / elapsed:.0f} deliveries/s to one hook "
            f"(first send to last arrival), p99 {percentile(latencies, 99):.0f} ms"
        )
    print("\n".join(line.strip() for line in lines), flush=True)
    return lines


if __name__ == "__main__":
    with running_stack() as stack:
        app_in_process(stack)
        section(stack)
