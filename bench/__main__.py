"""`make bench` (python -m bench): every section on one stack, then the RESULTS block; exit
status 1 if any request failed. bench/__init__.py says what each section measures."""

import sys

from bench import activity, coldstart, cpu, drain, fair, limits, longpoll, typed, webhooks
from bench.floor import Floor
from bench.harness import CONCURRENCY, SECONDS, SMOKE, THREADS, WORKERS, app_in_process, running_stack, start_early
from bench.report import print_results
from bench.scenarios import Scenarios
from bench.store_calls import store_calls


def main() -> int:
    print(
        f"make bench: {SECONDS:g} s per scenario, {CONCURRENCY} client threads (requests.Session each), "
        f"gunicorn {WORKERS}x{THREADS} gthread, moto server (devstack.localstore); fresh tenants per scenario",
        flush=True,
    )
    extra: list[str] = []
    with running_stack() as stack:
        app_in_process(stack)
        if SMOKE:
            # The smoke run (`make test`) starts two parts that need no stack (moto in process,
            # an interpreter each) now, beside the sections before them, and reads them where
            # `make bench` runs each alone: what they print are counts.
            for args in (fair.CALLS, activity.WRITES):
                start_early(*args)
        scenarios = Scenarios(stack.url, Floor(stack.store_url))
        # 5. Webhooks first, while the stream holds nothing else: run_deliveries reads every
        # tenant's records, and left running it would compete for the store during the rest.
        print("\n5. webhooks (run_deliveries, one receiver)", flush=True)
        extra += webhooks.section(stack)
        # 9. Fair delivery next, for the same reason: two more run_deliveries.
        extra += fair.section(stack)
        # 10. What a tenant sees, while the table is small too: /v1/stats reads the oldest
        # undelivered events from an index (and its activity writes are counted in process).
        extra += activity.section(stack)

        # Then the scenarios that query an index, while the table is small: moto's index
        # queries read every item of the table (DynamoDB's read only the partition's page).
        print("\n1-2. floor and API, paired", flush=True)
        health = scenarios.health()
        scenarios.list_page()
        scenarios.claim_ack()
        scenarios.extend()
        print("\n4. long poll", flush=True)
        extra += longpoll.section(stack)
        print("\n6. run_worker --once drain", flush=True)
        extra += drain.section(stack)
        print("\n1-2. floor and API, paired (key reads and writes)", flush=True)
        scenarios.get()
        single = scenarios.single_ingest()
        scenarios.batch_ingest(single)
        calls = store_calls(scenarios, stack.api)
        print("\n7. request rate across two API processes", flush=True)
        extra += limits.section(stack)
    print("\n3b. app CPU per request, store in process (bench/cpu.py)", flush=True)
    if SMOKE:  # typed beside cpu, which measures CPU time, not wall time
        start_early(*typed.ARGS)
    cpu_lines = cpu.section()
    extra += coldstart.section()
    extra += typed.section()
    print_results(scenarios.rows, health, single, calls, cpu_lines, extra)
    if scenarios.errors:
        print(f"\n{len(scenarios.errors)} requests failed; the first: {scenarios.errors[:3]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
