"""What a tenant sees (OBSERVE.md), section 10 of `make bench`: what `/v1/stats` costs to
read, and what the activity table costs to write.

Through the stack (the bench's moto server and the API under gunicorn): `GET /v1/stats`,
REQUESTS times for each of two tenants, one client, alternating: one with SMALL events, one
with BIG. Both tenants' events are ingested through the API and their INSERT records handed
to the stream function in this process (hooks.handler.handle_stream, as run_deliveries does:
no run_deliveries runs here), which writes their counters, buckets and history. BIG events
are simulated: a few real ones as above, the rest written straight into what the stats read
(an UpdateItem ADD of `undelivered` on the tenant's counters item, and of `ingested` on the
60 minute and 24 hour buckets the stats read). That is faithful because the stats read no
event but the oldest few: one BatchGetItem of the counters and those 84 buckets, the
tenant's hooks, and a page of 10 of the status index (the oldest undelivered); none of them
grows with the tenant's events. Store calls per request come from the server's access lines.

In process on moto's mock (bench/activity_writes.py, an interpreter of its own): the store
calls, transaction items and write units the stream adds per event ingested and per claim
and ack, and the delivery pipeline's flushes.

    .venv/bin/python -m bench.activity     (a stack of its own)
"""

import json
import statistics
import time
import uuid
from collections import Counter

import requests

from bench.harness import SMOKE, Stack, app_in_process, percentile, run_module, running_stack

SMALL = 10
BIG = 100_000
REAL = 5  # the big tenant's real events (the oldest undelivered among them)
REQUESTS = 10 if SMOKE else 50
WRITES = ("bench.activity_writes", *(("--events", "100", "--settled", "20", "--flush-events", "1") if SMOKE else ()))


def tenant(stack: Stack, events: int) -> tuple[str, requests.Session]:
    """A tenant with `events` real events, ingested through the API and applied by the
    stream function."""
    from tenants.services import api_key_issue

    name = f"bench-stats-{uuid.uuid4().hex[:6]}"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key_issue(tenant_id=name, scopes=('ingest', 'consume'))[1]}"
    batch = {"events": [{"event_type": "bench", "n": n} for n in range(events)]}
    session.post(f"{stack.url}/v1/events/batch", json=batch, timeout=30).raise_for_status()
    streamed(name)
    return name, session


def streamed(tenant_id: str) -> None:
    """The tenant's events' INSERT records handed to the stream function, as the stream would."""
    from bench.activity_writes import record
    from events.models import Event
    from hooks import handler

    records = [record("INSERT", None, event.serialize(), n) for n, event in enumerate(Event.query(tenant_id))]
    assert handler.handle_stream({"Records": records}) == {"batchItemFailures": []}


def simulated(tenant_id: str, more: int) -> None:
    """`more` undelivered events ingested over the last 24 hours, in the counts alone:
    `undelivered` on the counters, `ingested` on each of the 24 hour buckets the stats read
    and (the last hour's share) on each of the 60 minute buckets."""
    from activity import store as activity_store
    from activity.models import HOUR, MINUTE, STEP_MS, Activity, bucket_sk, bucket_start, counters_key, series_pk
    from triggerapi.store import call, client, now_ms

    def add(pk: str, sk: str, counts: dict, expires: int | None = None) -> None:
        update = activity_store.adds(pk, sk, Counter(counts), expires_at_ms=expires)["Update"]
        call(lambda: client(Activity).update_item(**update), what="UpdateItem Activity (bench)")

    add(*counters_key(tenant_id), {"undelivered": more})
    now, per_hour = now_ms(), more // 24
    for n in range(24):
        start = bucket_start(HOUR, now) - n * STEP_MS[HOUR]
        count = per_hour + (more - 24 * per_hour if n == 0 else 0)
        expires = activity_store.bucket_expiry(HOUR, start)
        add(series_pk(tenant_id), bucket_sk(HOUR, start), {"ingested": count}, expires)
    for n in range(60):
        start = bucket_start(MINUTE, now) - n * STEP_MS[MINUTE]
        expires = activity_store.bucket_expiry(MINUTE, start)
        add(series_pk(tenant_id), bucket_sk(MINUTE, start), {"ingested": per_hour // 60}, expires)


def table_items() -> int:
    from events.models import Event
    from triggerapi.store import client

    return client(Event).describe_table(TableName=Event.Meta.table_name)["Table"]["ItemCount"]


def stats_reads(stack: Stack) -> list[str]:
    small, small_session = tenant(stack, SMALL)
    big, big_session = tenant(stack, REAL)
    simulated(big, BIG - REAL)
    sessions = {small: small_session, big: big_session}
    latencies: dict[str, list[float]] = {small: [], big: []}
    ids: dict[str, str] = {}
    bodies = {name: s.get(f"{stack.url}/v1/stats", timeout=30).json() for name, s in sessions.items()}  # warm
    for _ in range(REQUESTS):
        for name, session in sessions.items():
            started = time.perf_counter()
            response = session.get(f"{stack.url}/v1/stats", timeout=30)
            latencies[name].append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            ids[response.headers["X-Request-ID"]] = name
    assert (bodies[small]["events"]["undelivered"], bodies[small]["events"]["ingested"]["24h"]) == (SMALL, SMALL)
    assert (bodies[big]["events"]["undelivered"], bodies[big]["events"]["ingested"]["24h"]) == (BIG, BIG), bodies
    stack.api.line_with(list(ids)[-1], '"triggerapi.access"')
    calls: dict[str, list[int]] = {small: [], big: []}
    for line in list(stack.api.lines):
        if '"triggerapi.access"' in line and (entry := json.loads(line))["request_id"] in ids:
            calls[ids[entry["request_id"]]].append(entry["store_calls"])
    rows = []
    for name, label in ((small, f"{SMALL} events"), (big, f"{BIG:,} events (simulated)")):
        events = bodies[name]["events"]
        rows.append(
            f"| /v1/stats, {label} | {statistics.median(calls[name]):g} / {max(calls[name])} "
            f"| {percentile(latencies[name], 50):.1f} | {percentile(latencies[name], 99):.1f} "
            f"| undelivered {events['undelivered']:,}, ingested 24h {events['ingested']['24h']:,}, "
            f"oldest {events['oldest_undelivered_age_ms']} ms |"
        )
    return [
        f"GET /v1/stats through the stack, {REQUESTS} requests a tenant, one client, alternating (events table "
        f"{table_items():,} items: moto's index query reads them all, DynamoDB's a page)",
        "| request | store calls (median / max) | p50 ms | p99 ms | answer |",
        "|---|---|---|---|---|",
        *rows,
        f"the {BIG:,}: {REAL} real events through the stream function, then {BIG - REAL:,} as ADDs on the counters "
        "and the 60 minute and 24 hour buckets the stats read (they read no event but the oldest 10)",
    ]


def writes() -> list[str]:
    """bench/activity_writes.py's lines, from an interpreter of its own (mock_aws patches the
    process)."""
    result = run_module(*WRITES)
    if result.returncode:
        raise RuntimeError("bench.activity_writes failed:\n" + result.stderr[-3000:])
    return result.stdout.splitlines()


def section(stack: Stack) -> list[str]:
    print("\n10. what a tenant sees: stats reads, activity writes", flush=True)
    lines = [
        "",
        "10. what a tenant sees: /v1/stats reads and the activity table's writes (bench/activity.py)",
        *stats_reads(stack),
        *writes(),
    ]
    print("\n".join(lines[2:]), flush=True)
    return lines


if __name__ == "__main__":
    with running_stack() as stack:
        app_in_process(stack)
        section(stack)
