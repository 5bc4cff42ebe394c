"""Long-poll wake-up latency through the real stack: a consumer keeps a waiting claim open
while a producer trickles events in; for each event, the time from its 201 to the claim
answer that carries it. Also the store calls a waiting claim makes per waited second, from
the server's access log.

    python -m bench.longpoll     (a stack of its own; `make bench` runs it as section 4)
"""

import json
import random
import threading
import time
import uuid

from bench.harness import SECONDS, SMOKE, Stack, app_in_process, key_for, percentile, running_stack
from devstack.processes import Api, Child

EVENTS = 6 if SMOKE else int(SECONDS * 4)
WAIT_SECONDS = 2 if SMOKE else 5


def consume(api: Api, seen: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        response = api.post("/v1/events/claim", json={"wait_seconds": 20, "limit": 100})
        answered = time.monotonic()
        for event in response.json()["events"]:
            seen[event["id"]] = answered
        if response.json()["events"]:
            api.post("/v1/events/ack", json={"ids": [e["id"] for e in response.json()["events"]]})


def wake_up_latencies(url: str, key: str, events: int) -> list[float]:
    seen: dict[str, float] = {}
    stop = threading.Event()
    consumer = threading.Thread(target=consume, args=(Api(url, key), seen, stop), daemon=True)
    consumer.start()
    producer = Api(url, key)
    created: dict[str, float] = {}
    for _ in range(events):
        time.sleep(random.uniform(0.05, 0.4))  # a trickle: most events arrive during a wait
        response = producer.post("/v1/events", json={"n": 1})
        created[response.json()["id"]] = time.monotonic()
    deadline = time.monotonic() + 30
    while len(seen) < len(created) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    return [(seen[event_id] - at) * 1000 for event_id, at in created.items() if event_id in seen]


def queries_per_waited_second(api: Api, server: Child, wait: int) -> float:
    response = api.post("/v1/events/claim", json={"wait_seconds": wait, "event_type": "none-such"})
    line = server.line_with(response.headers["X-Request-ID"], "triggerapi.access", seconds=5)
    return json.loads(line)["store_calls"] / wait


def section(stack: Stack) -> list[str]:
    key = key_for(f"bench-longpoll-{uuid.uuid4().hex[:6]}")
    api = Api(stack.url, key)
    api.get("/v1/me")  # warm: the key cache
    latencies = wake_up_latencies(stack.url, key, EVENTS)
    per_second = queries_per_waited_second(api, stack.api, WAIT_SECONDS)
    met = "yes" if percentile(latencies, 99) <= 500 else "NO"
    lines = [
        f"\n4. long-poll wake-up over {len(latencies)}/{EVENTS} events trickled into waits: "
        f"p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms "
        f"(target p99 <= 500 ms: {met})",
        f"   store queries per waited second (an empty {WAIT_SECONDS} s wait): {per_second:.1f}",
    ]
    print("\n".join(line.strip() for line in lines), flush=True)
    return lines


if __name__ == "__main__":
    with running_stack() as stack:
        app_in_process(stack)
        section(stack)
