"""The app's CPU per request: requests handed straight to Django's WSGI application, as a
server hands them over (no test client between them: its bookkeeping is not the app's),
warm (key cache, connections, imports), minus the CPU of the same store calls made straight
through botocore. What is left is the app's share: Django, DRF, PynamoDB, our code, the
access line and the metrics line.

    .venv/bin/python -m bench.cpu [--requests 2000] [--runs 5] [--profile]
    .venv/bin/python -m bench.cpu --count ingest --requests 300   # for an instruction counter

Ingest and get: the store is a stub in process (botocore's `before-send` answers, as the
SnapStart warm-up's does: the key's record, the events put, nothing sent), so the figure is
not moto's CPU, which varied more than the app's whole cost. Claim 10 + batch ack: moto's
in-process mock (a claim queries the inbox index), minus the same query and updates made
raw on it. Each figure is the median of `--runs` runs; a run alternates slices of 50
requests with the raw calls they make, so that a change of the machine's speed within a run
falls on both alike (this machine's speed moves by a third over seconds: `calibration`
prints a fixed loop's CPU before each run).

`--count` serves the requests (or the raw calls: raw_put, raw_get) untimed and prints
nothing: the difference between two counts under `valgrind --tool=cachegrind
--cache-sim=no` (say 300 and 50 requests) is the instructions of 250 warm ones, a figure the
machine's speed does not move; ingest's less raw_put's is the app's (docs/PERFORMANCE.md,
"CPU per request"). `make bench` runs this module in an interpreter
of its own (section()): mock_aws patches botocore for the whole process.
"""

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import statistics
import time
from contextlib import contextmanager

from bench.harness import HIGH_LIMITS, SMOKE, run_module

# The in-process mock, fake credentials, no endpoint (a developer's .env must not name one).
MOCK_ENV = {
    "DJANGO_SETTINGS_MODULE": "triggerapi.settings",
    "DYNAMODB_HOST": "",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "TABLE_PREFIX": "Bench",
    "SECRET_KEY": "bench-only",
    "ALLOWED_HOSTS": "testserver",  # the host the requests name
    "LOG_LEVEL": "INFO",  # the access line is written, as in production
    **HIGH_LIMITS,  # the rate limiter runs (its local work is the app's) and refuses nothing
}
TENANT = "cpu"
CLAIM = 10
SLICE = 50


def calibration() -> float:
    """CPU ms of a fixed loop: how fast this machine is running just now."""
    started = time.process_time()
    total = 0
    for n in range(200_000):
        total += n * n
    return (time.process_time() - started) * 1000


def app_ms(request, raw, count: int, inside: list[float] | None = None) -> float:
    """CPU ms of `request` less that of `raw` (per call, in alternating slices), or less
    the CPU spent `inside` the store's handler (a claim: moto's query and updates)."""
    spent = 0.0
    for start in range(0, count, SLICE):
        calls = range(start, min(count, start + SLICE))
        began, stored = time.process_time(), inside[0] if inside else 0.0
        for n in calls:
            request(n)
        middle = time.process_time()
        if inside:
            spent += (middle - began) - (inside[0] - stored)
            continue
        for n in calls:
            raw(n)
        spent += (middle - began) - (time.process_time() - middle)
    return spent * 1000 / count


@contextmanager
def moto_timed():
    """The CPU spent in moto's handler (the store's own work), added up in a list of one."""
    from moto.core.botocore_stubber import BotocoreStubber

    inside = [0.0]
    handler = BotocoreStubber.__call__

    def timed(self, *args, **kwargs):
        began = time.thread_time()  # this thread's: the store pool's threads answer at once
        try:
            return handler(self, *args, **kwargs)
        finally:
            inside[0] += time.thread_time() - began

    BotocoreStubber.__call__ = timed
    try:
        yield inside
    finally:
        BotocoreStubber.__call__ = handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--count", choices=("ingest", "get", "raw_put", "raw_get"))
    args = parser.parse_args()
    os.environ.update(MOCK_ENV)
    import django
    from moto import mock_aws

    with mock_aws():
        django.setup()
        # The access and metrics lines are written as in production (formatted, to a
        # stream), to nowhere.
        for logger in [logging.getLogger(), *map(logging.getLogger, ("triggerapi", "triggerapi.metrics"))]:
            for handler in logger.handlers:
                if isinstance(handler, logging.StreamHandler):
                    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
        measure(args)


def measure(args) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    from bench.memory_store import KEPT, MemoryStore
    from events.ids import new_event_ids
    from events.lifecycle import new_event
    from events.models import Event
    from tenants.keys import generate_key
    from tenants.services import api_key_issue
    from triggerapi import store
    from triggerapi.tables import tables_create
    from triggerapi.warmup import wsgi_request

    application = WSGIHandler()
    db = store.client(Event)
    table = Event.Meta.table_name
    body = json.dumps({"event_type": "bench", "n": 1})

    def calls(key: str):
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def call(method: str, path: str, data: bytes = b"") -> tuple[int, bytes]:
            return wsgi_request(application, method, path, data, headers, host="testserver")

        return call

    key = generate_key()
    stub = MemoryStore(key, tenant_id=TENANT)
    call = calls(key)
    kept: list[str] = []

    def ingest(n):
        status, content = call("POST", "/v1/events", body.encode())
        assert status == 201, content
        if len(kept) < KEPT:
            kept.append(json.loads(content)["id"])

    def raw_put(n):
        item = new_event(TENANT, new_event_ids(1)[0], {"event_type": "bench", "n": 1}).serialize()
        db.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(sk)")

    def get(n):
        status, content = call("GET", f"/v1/events/{kept[n % len(kept)]}")
        assert status == 200, content

    def raw_get(n):
        db.get_item(TableName=table, Key={"tenant_id": {"S": TENANT}, "sk": {"S": kept[n % len(kept)]}})

    with stub.installed():
        for n in range(200):  # warm, and the events the gets read
            ingest(n)
            get(n)
        if args.count:
            served = {"ingest": ingest, "get": get, "raw_put": raw_put, "raw_get": raw_get}[args.count]
            for n in range(args.requests):
                served(n)
            return
        results = {
            "single ingest": runs(args, ingest, raw_put, "1 put_item"),
            "get": runs(args, get, raw_get, "1 get_item"),
        }
        if args.profile:
            profile("single ingest x 2000", lambda: [ingest(n) for n in range(2000)])
            profile("get x 2000", lambda: [get(n) for n in range(2000)])

    # Claim and ack on moto's mock (the inbox's query, a lease and an ack per event), less
    # the CPU moto spends answering: what is left includes botocore's work for each call.
    tables_create()
    call = calls(api_key_issue(tenant_id=TENANT, scopes=("ingest", "consume"))[1])

    def claim_ack(n):
        events = json.loads(call("POST", "/v1/events/claim", json.dumps({"limit": CLAIM}).encode())[1])
        taken = [e["id"] for e in events["events"]]
        assert len(taken) == CLAIM, events
        assert call("POST", "/v1/events/ack", json.dumps({"ids": taken}).encode())[0] == 200

    claims = max(2, args.requests // 100)
    for _ in range((args.runs * claims + 2) * CLAIM):
        assert call("POST", "/v1/events", body.encode())[0] == 201
    claim_ack(0)
    with moto_timed() as inside:
        results[f"claim {CLAIM} + batch ack"] = runs(
            args, claim_ack, None, "moto's own CPU (its handler) subtracted", count=claims, inside=inside
        )
    report(results, args.runs)


def runs(args, request, raw, calls: str, count: int | None = None, inside=None) -> tuple[list, list, str]:
    measured, speeds = [], []
    for _ in range(args.runs):
        speeds.append(calibration())
        measured.append(app_ms(request, raw, count or args.requests, inside))
    return measured, speeds, calls


TARGETS = {"single ingest": "<= 0.8 ms", "get": "<= 1.0 ms"}


def report(results: dict, count: int) -> None:
    print(f"| request | app CPU ms, median of {count} | the runs | calibration ms | raw store calls | target |")
    print("|---|---|---|---|---|---|")
    for name, (measured, speeds, calls) in results.items():
        runs = " ".join(f"{ms:.2f}" for ms in measured)
        speed = " ".join(f"{ms:.0f}" for ms in speeds)
        target = TARGETS.get(name, "-")
        print(f"| {name} | {statistics.median(measured):.2f} | {runs} | {speed} | {calls} | {target} |")


def profile(what: str, run) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(order).print_stats(30)
        print(f"\n### {what}, by {order}\n")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])


ARGS = ("bench.cpu", "--requests", "100" if SMOKE else "2000", "--runs", "1" if SMOKE else "5")


def section() -> list[str]:
    """This module's table, from an interpreter of its own."""
    result = run_module(*ARGS)
    if result.returncode:
        raise RuntimeError("bench.cpu failed:\n" + result.stderr[-3000:])
    return result.stdout.splitlines()


if __name__ == "__main__":
    main()
