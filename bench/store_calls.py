"""Store calls per API operation, from the server's JSON access lines (`store_calls`, counted
at botocore's level by `triggerapi.store.call`), over every successful request of the run;
each claim checked against 1 + N by its request id; and the rate limiter's, apart."""

import json
import statistics

from bench.scenarios import BATCH, Scenarios
from devstack.processes import Child

# (operation, method, route, target)
WANTED = [
    ("single ingest", "POST", "/v1/events", "1"),
    ("batch ingest", "POST", "/v1/events/batch", f"{BATCH // 25} (BatchWrite of 25)"),
    ("get", "GET", "/v1/events/{event_id}", "1"),
    ("list page", "GET", "/v1/events", "1"),
    ("ack (one)", "POST", "/v1/events/{event_id}/ack", "1"),
    ("ack (batch)", "POST", "/v1/events/ack", "1 per event"),
    ("delete", "DELETE", "/v1/events/{event_id}", "1"),
    ("extend", "POST", "/v1/events/{event_id}/extend", "1"),
    ("claim", "POST", "/v1/events/claim", "<= 1 + N"),
]


def single_acks_and_deletes(scenarios: Scenarios) -> str:
    """A few single acks and deletes, which the load scenarios do not make; the last
    request's id."""
    _, key = scenarios.tenant("calls")
    session = scenarios.session(key)
    ids = scenarios.seed(key, 40)
    for event_id in ids[:20]:
        session.post(f"{scenarios.url}/v1/events/{event_id}/ack", timeout=30).raise_for_status()
    for event_id in ids[20:]:
        deleted = session.delete(f"{scenarios.url}/v1/events/{event_id}", timeout=30)
        assert deleted.status_code == 204
    return deleted.headers["X-Request-ID"]


def store_calls(scenarios: Scenarios, server: Child) -> list[tuple]:
    """(operation, median, max, requests, target) rows. Warm: the first call of each thread
    was untimed and its line is in here too; the median is the warm figure."""
    server.line_with(single_acks_and_deletes(scenarios), '"triggerapi.access"')
    by_route: dict[tuple, list[int]] = {}
    over = 0
    for line in list(server.lines):
        if '"triggerapi.access"' not in line:
            continue
        entry = json.loads(line)
        if entry["status"] >= 400:
            continue
        by_route.setdefault((entry["method"], entry["route"]), []).append(entry["store_calls"])
        if (claimed := scenarios.claims.get(entry["request_id"])) is not None and entry["store_calls"] > 1 + claimed:
            over += 1
    table = []
    for name, method, route, target in WANTED:
        calls = by_route.get((method, route), [])
        if not calls:
            table.append((name, "-", "-", "-", target))
            continue
        table.append((name, statistics.median(calls), max(calls), len(calls), target))
    table.append(("claims over 1 + N", f"{over}/{len(scenarios.claims)}", "", "", "0"))
    table.append(("limiter calls per request (mean; all requests)", *_limiter(server), "<= 0.1"))
    return table


def _limiter(server: Child) -> tuple[str, int, int]:
    """The rate limiter's store calls, counted apart from each request's own (LIMITS.md):
    their mean and most over every request the server answered (refused, failed or not)."""
    calls = [json.loads(line).get("limiter_calls", 0) for line in list(server.lines) if '"triggerapi.access"' in line]
    return f"{sum(calls) / max(1, len(calls)):.4f}", max(calls, default=0), len(calls)
