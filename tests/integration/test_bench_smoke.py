"""`make bench BENCH_SECONDS=1`: the benchmark runs end to end and prints every row of its
table, so it cannot rot. No timing is asserted: the numbers belong to the machine."""

import os
import subprocess
import sys

from devstack.processes import ROOT

ROWS = [
    "| client check: GET /health |",
    "| floor: put_item |",
    "| single ingest |",
    "| batch ingest (100/req) |",
    "| floor: get_item |",
    "| get |",
    "| floor: query (21 items) |",
    "| list page (20) |",
    "| floor: update_item |",
    "| claim 10 + batch ack |",
    "| extend |",
    "3. store calls per API operation",
    "| claims over 1 + N |",
    "| limiter calls per request (mean; all requests) |",
    "3b. app CPU per request",
    "| single ingest |",
    "4. long-poll wake-up",
    "5. ingest -> first webhook attempt",
    "6. run_worker --once --batch 100",
    "7. request rate, two API processes",
    "a quiet tenant at 20/s",
    "cold start",
    "8. reads by type",
    "| typed claim, the one match |",
    "9. fair push delivery",
    "beside a hook hanging with",
    "deliveries/s",
    "run_deliveries (fan-out offers):",
    "AWS (fan-out, then rounds):",
    "10. what a tenant sees",
    "| /v1/stats, 10 events | 3 / 3 |",
    "| /v1/stats, 100,000 events (simulated) | 3 / 3 |",
    "| ingest, per event |",
    "| claim + ack, per event |",
    "pipeline flush",
]


def test_bench_runs_and_prints_its_table():
    # Coverage is not measured in the benchmark's processes: they run the code the other
    # tests measure, and traced they took twice as long.
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
    env["BENCH_SECONDS"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = result.stdout.split("RESULTS", 1)[1]
    for row in ROWS:
        assert row in results, f"{row!r} missing from:\n{results}"
