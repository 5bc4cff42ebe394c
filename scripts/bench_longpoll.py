"""Long-poll wake-up latency through the real stack (a moto server process, the API under
gunicorn 2x8): a consumer keeps a waiting claim open while a producer trickles events in;
for each event, the time from its 201 to the claim answer that carries it. Also the store
calls a waiting claim makes per waited second, from the server's access log."""

import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.processes import Api, manage, server_env, start_api, start_store  # noqa: E402

EVENTS = int(os.environ.get("BENCH_LONGPOLL_EVENTS", 200))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def consume(api: Api, seen: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        response = api.post("/v1/events/claim", json={"wait_seconds": 20, "limit": 100})
        answered = time.monotonic()
        for event in response.json()["events"]:
            seen[event["id"]] = answered
        if response.json()["events"]:
            api.post("/v1/events/ack", json={"ids": [e["id"] for e in response.json()["events"]]})


def wake_up_latencies(api: Api, events: int = EVENTS) -> list[float]:
    seen: dict[str, float] = {}
    stop = threading.Event()
    consumer = threading.Thread(target=consume, args=(Api(api.base_url, api.key), seen, stop), daemon=True)
    consumer.start()
    created: dict[str, float] = {}
    for _ in range(events):
        time.sleep(random.uniform(0.05, 0.4))  # a trickle: most events arrive during a wait
        response = api.post("/v1/events", json={"n": 1})
        created[response.json()["id"]] = time.monotonic()
    deadline = time.monotonic() + 30
    while len(seen) < len(created) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    return [(seen[event_id] - at) * 1000 for event_id, at in created.items() if event_id in seen]


def queries_per_waited_second(api: Api, server, wait: int = 5) -> float:
    response = api.post("/v1/events/claim", json={"wait_seconds": wait, "event_type": "none-such"})
    request_id = response.headers["X-Request-ID"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the server's output is read on another thread
        for line in list(server.lines):
            if request_id in line and "triggerapi.access" in line:
                return json.loads(line)["store_calls"] / wait
        time.sleep(0.05)
    raise RuntimeError("the server logged no access line for the claim")


def main() -> None:
    store, store_url = start_store()
    env = server_env(store_url)
    manage(env, "create_tables")
    server, url = start_api(env)
    try:
        key = json.loads(manage(env, "issue_key", "bench", "--json"))["key"]
        api = Api(url, key)
        api.key = key
        api.get("/v1/me")
        latencies = wake_up_latencies(api)
        print(f"long-poll wake-up over {len(latencies)} events trickled into waits (gunicorn 2x8, moto server):")
        print(
            f"  p50 {statistics.median(latencies):.0f} ms  p99 {percentile(latencies, 99):.0f} ms  "
            f"max {max(latencies):.0f} ms"
        )
        print(f"  store calls per waited second (empty 5 s wait): {queries_per_waited_second(api, server):.1f}")
    finally:
        server.stop()
        store.stop()


if __name__ == "__main__":
    main()
