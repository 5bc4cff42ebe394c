"""The app's CPU per request with the store answering in process (no network): requests
handed straight to Django's WSGI application, as a server hands them over (no test client
between them: its own bookkeeping, about a third of a millisecond a request, is not the
app's), against moto's in-process mock (`mock_aws`), warm (key cache, connections, imports),
minus the CPU of the same raw store calls made straight through botocore on the same mock.
What is left is the app's share: Django, DRF, PynamoDB, our code, the access log line.

    .venv/bin/python -m bench.cpu [--requests 1000] [--profile]

--profile also prints cProfile's top functions (by cumulative time, then by own time) for
warm single ingests and for warm claims of 10 + batch acks; docs/PERFORMANCE.md quotes them.
`make bench` runs it in an interpreter of its own (section()): mock_aws patches botocore for
the whole process.
"""

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import time

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

CLAIM = 10


def cpu_ms(fn, count: int) -> float:
    started = time.process_time()
    for n in range(count):
        fn(n)
    return (time.process_time() - started) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    count = args.requests
    os.environ.update(MOCK_ENV)
    import django
    from moto import mock_aws

    with mock_aws():
        django.setup()
        # The access line is written as in production (formatted, to a stream), to nowhere.
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
        from django.core.handlers.wsgi import WSGIHandler

        from events.ids import new_event_ids
        from events.lifecycle import new_event
        from events.models import Event
        from tenants.services import api_key_issue
        from triggerapi import store
        from triggerapi.tables import tables_create
        from triggerapi.warmup import wsgi_request

        tables_create()
        key = api_key_issue(tenant_id="cpu", scopes=("ingest", "consume"))[1]
        application = WSGIHandler()
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def call(method: str, path: str, data: bytes = b"") -> tuple[int, bytes]:
            return wsgi_request(application, method, path, data, headers, host="testserver")

        db = store.client(Event)
        table = Event.Meta.table_name
        body = json.dumps({"event_type": "bench", "n": 1})

        def ingest(n):
            status, content = call("POST", "/v1/events", body.encode())
            assert status == 201, content

        ids = []

        def raw_put(n):
            item = new_event("raw", new_event_ids(1)[0], {"event_type": "bench", "n": 1}).serialize()
            db.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(sk)")
            ids.append(item["sk"]["S"])

        def get(n):
            assert call("GET", f"/v1/events/{event_ids[n % len(event_ids)]}")[0] == 200

        def raw_get(n):
            db.get_item(TableName=table, Key={"tenant_id": {"S": "raw"}, "sk": {"S": ids[n % len(ids)]}})

        def claim_ack(n):
            events = json.loads(call("POST", "/v1/events/claim", json.dumps({"limit": CLAIM}).encode())[1])
            taken = [e["id"] for e in events["events"]]
            assert len(taken) == CLAIM, events
            assert call("POST", "/v1/events/ack", json.dumps({"ids": taken}).encode())[0] == 200

        def raw_claim_ack(n):
            found = db.query(
                TableName=table,
                IndexName="inbox-index",
                KeyConditionExpression="inbox_tenant = :t",
                ExpressionAttributeValues={":t": {"S": "raw"}},
                Limit=2 * CLAIM,  # the app reads twice the limit (events.services.claim._page)
            )["Items"]
            for item in found:  # the lease
                db.update_item(
                    TableName=table,
                    Key={"tenant_id": item["tenant_id"], "sk": item["sk"]},
                    UpdateExpression="SET lease_expires_at = :l",
                    ConditionExpression="attribute_exists(sk)",
                    ExpressionAttributeValues={":l": {"N": "1"}},
                )
            for item in found:  # the ack: out of the inbox
                db.update_item(
                    TableName=table,
                    Key={"tenant_id": item["tenant_id"], "sk": item["sk"]},
                    UpdateExpression="SET #s = :d REMOVE inbox_tenant, inbox_key",
                    ConditionExpression="attribute_exists(sk)",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":d": {"S": "delivered"}},
                )

        for n in range(20):  # warm
            ingest(n)
            raw_put(n)
        event_ids = [e.event_id for e in Event.query("cpu")]
        get(0)
        raw_get(0)
        results = {}
        results["single ingest"] = (cpu_ms(ingest, count), cpu_ms(raw_put, count), "1 put_item")
        event_ids = [e.event_id for e in Event.query("cpu")]
        results["get"] = (cpu_ms(get, count), cpu_ms(raw_get, count), "1 get_item")
        claims = max(2, count // 20)
        # claim_ack consumes the oldest events of "cpu" and "raw", which the ingests above made
        results[f"claim {CLAIM} + batch ack"] = (
            cpu_ms(claim_ack, claims),
            cpu_ms(raw_claim_ack, claims),
            f"1 query + {2 * CLAIM} update_item",
        )
        print("| request | total CPU ms | raw store calls ms | app ms | raw calls | target |")
        print("|---|---|---|---|---|---|")
        for name, (total, raw, calls) in results.items():
            target = "<= 1 ms" if name == "single ingest" else "-"
            print(f"| {name} | {total:.2f} | {raw:.2f} | {total - raw:.2f} | {calls} | {target} |")
        if args.profile:
            profile("single ingest x 500", lambda: [ingest(n) for n in range(500)])
            for n in range(600):
                ingest(n)
            profile(f"claim {CLAIM} + batch ack x 50", lambda: [claim_ack(n) for n in range(50)])


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


ARGS = ("bench.cpu", "--requests", "100" if SMOKE else "1000")


def section() -> list[str]:
    """This module's table, from an interpreter of its own."""
    result = run_module(*ARGS)
    if result.returncode:
        raise RuntimeError("bench.cpu failed:\n" + result.stderr[-3000:])
    return result.stdout.splitlines()


if __name__ == "__main__":
    main()
