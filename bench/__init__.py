"""`make bench`: every API operation measured against the store's own floor, in one run
(docs/PERFORMANCE.md). Development only: the Lambda zip leaves this package out.

`python -m bench` starts the stack once (harness.running_stack: the local store, the
tables, the app under gunicorn, BENCH_WORKERS x BENCH_THREADS, 2x32 by default as in the
tests) and measures, printing one table:

1. the floor (floor.py): raw put_item, get_item, one-page query and update_item straight to
   the store from botocore, at the load's concurrency, each measured just before the API
   operation it is the floor of (moto's speed drifts during a run, and its index queries
   slow down as the table grows, so a floor measured minutes earlier would flatter or wrong
   the ratio);
2. through the API (scenarios.py), with a thread pool of keep-alive sessions
   (BENCH_CONCURRENCY, 8): single ingest, batch ingest, get, list page, claim + batch ack,
   extend; rate, p50, p99, floor, ratio, target;
3. store calls per API operation (store_calls.py, from the server's JSON access lines) and
   the app's CPU per request with the store answering in process (cpu.py);
4. long-poll wake-up latency and store queries per waited second (longpoll.py);
5. ingest -> first webhook attempt at 20 events/s and deliveries/s to one hook, through
   `run_deliveries` (webhooks.py);
6. `run_worker --once` drain rate (drain.py) and, if `dist/triggerapi-prod.zip` exists, the
   packaged Lambda's cold start (coldstart.py; `make bench-coldstart` builds the zip first);
7. the request rate across two API processes (limits.py): a tenant at 3 times its rate
   split 9:1 between them, accepted against its budget and the limiter's store calls per
   request; a quiet tenant's p50/p99 alone and beside it;
8. reads filtered by event_type behind 10,000 events of other types (typed.py, in process):
   the store calls of a filtered list page, a typed claim and a replay by type, and the
   items each read;
9. fair push delivery (fair.py, two `run_deliveries`): a quiet hook's ingest -> first
   attempt alone and beside a hook whose receiver hangs, deliveries/s to 10 hooks, and (in
   process) store calls per delivery as run_deliveries and as the AWS functions make them;
10. what a tenant sees (activity.py, OBSERVE.md): `/v1/stats`'s store calls and p50/p99 for a
   tenant with 10 events and one with 100,000 (simulated in its counters and buckets), and
   (in process, activity_writes.py) the activity table's store calls, transaction items and
   write units per event ingested and per claim and ack, and the delivery pipeline's flushes.

Every scenario gets fresh tenants, with request rates far above what they send (the limiter
runs, its calls per request are in 3). BENCH_SECONDS (10) is each timed scenario's length;
`make bench BENCH_SECONDS=1` is the smoke run `make test` does (tests/integration/
test_bench_smoke.py), which also starts the parts that need no stack (fair's store calls,
the activity writes, typed) ahead, beside the sections before them, where `make bench` runs
each alone. Exit status 1 if any request failed. Sections 3b to 8 also run alone:
`python -m bench.cpu`, `bench.typed` and `bench.coldstart ZIP` need no stack; `bench.longpoll`,
`bench.webhooks`, `bench.drain`, `bench.limits`, `bench.fair` and `bench.activity` start one of their
own (`bench.activity_writes` needs none).
"""
