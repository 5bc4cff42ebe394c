"""Fair push delivery (LIMITS.md, "Webhook fairness"), section 9 of `make bench`.

Through the stack (the bench's moto server and API, two `run_deliveries`, a receiver in this
process): ingest -> first attempt for a quiet tenant's events sent at 10/s, alone and then
beside another tenant's hook whose receiver never answers, with HANGING deliveries pending;
and deliveries per second for a burst to 10 hooks (of 10 tenants, so that no tenant's
`deliveries_per_second` is what is measured; the bench's tenants have high limits anyway).

In process (moto's in-process mock, as bench.typed): store calls per delivery, from fan-out to
the outcome recorded, for a batch of events to one hook, as `run_deliveries` makes them
(fan-out offers the new deliveries to its dispatcher) and as the two functions do on AWS
(fan-out, then the dispatch function's rounds).

    .venv/bin/python -m bench.fair            (a stack of its own)
    .venv/bin/python -m bench.fair --calls    (the in-process part only)
"""

import logging
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager

from bench.harness import SMOKE, Stack, app_in_process, key_for, percentile, run_module, running_stack
from bench.webhooks import receiving
from devstack.processes import Api, Child, wait_for

HANGING = 20 if SMOKE else 100
QUIET = 10 if SMOKE else 40
QUIET_RATE = 10
BURST = 10 if SMOKE else 50
HOOKS = 10
CALLS_EVENTS = 20


def subscribed(stack: Stack, tenant: str, target: str) -> Api:
    api = Api(stack.url, key_for(tenant))
    api.post("/v1/hooks", json={"target_url": target}).raise_for_status()
    return api


def ingest(api: Api, count: int) -> list[str]:
    ids = []
    for start in range(0, count, 100):
        events = [{"event_type": "bench", "n": n} for n in range(start, min(count, start + 100))]
        response = api.post("/v1/events/batch", json={"events": events})
        response.raise_for_status()
        ids += [receipt["id"] for receipt in response.json()["events"]]
    return ids


def paced(api: Api, arrived: dict, path: str) -> list[float]:
    """QUIET events sent one by one at QUIET_RATE a second: each one's ms from its 201 to its
    first attempt at `path`."""
    sent: dict[str, float] = {}
    start = time.monotonic()
    for n in range(QUIET):
        time.sleep(max(0.0, start + n / QUIET_RATE - time.monotonic()))
        [event_id] = ingest(api, 1)
        sent[event_id] = time.monotonic()
    wait_for(lambda: all((path, event_id) in arrived for event_id in sent), f"{QUIET} deliveries to {path}", 60)
    return [(arrived[(path, event_id)] - at) * 1000 for event_id, at in sent.items()]


def section(stack: Stack) -> list[str]:
    print("\n9. fair push delivery (two run_deliveries)", flush=True)
    runners = [Child([sys.executable, "manage.py", "run_deliveries"], stack.env, r"Delivering from") for _ in (1, 2)]
    try:
        for runner in runners:
            runner.wait_ready()
        with receiving() as (base, arrived, hanging, release):
            quiet = subscribed(stack, "bench-fair-quiet", f"{base}/quiet")
            alone = paced(quiet, arrived, "/quiet")
            hang = subscribed(stack, "bench-fair-hang", f"{base}/hang")
            ingest(hang, HANGING)
            wait_for(lambda: hanging["/hang"] >= 10, "the hanging hook's places taken", 60)
            beside = paced(quiet, arrived, "/quiet")
            release.set()
            apis = [subscribed(stack, f"bench-fair-{n}", f"{base}/hook{n}") for n in range(HOOKS)]
            start = time.monotonic()
            for api in apis:
                ingest(api, BURST)
            wait_for(
                lambda: len([k for k in arrived if k[0].startswith("/hook")]) >= HOOKS * BURST,
                f"{HOOKS * BURST} deliveries",
                120,
            )
            spread = max(at for (path, _), at in arrived.items() if path.startswith("/hook")) - start
    finally:
        for runner in runners:
            runner.stop()
    met = "yes" if percentile(beside, 99) <= 1000 else "NO"
    lines = [
        "",
        "9. fair push delivery (two run_deliveries; bench/fair.py)",
        f"   a quiet hook's events at {QUIET_RATE}/s, 201 -> first attempt: alone p50 {percentile(alone, 50):.0f} / "
        f"p99 {percentile(alone, 99):.0f} ms; beside a hook hanging with {HANGING} pending: "
        f"p50 {percentile(beside, 50):.0f} / p99 {percentile(beside, 99):.0f} ms (target p99 <= 1000 ms: {met})",
        f"   {BURST} events to each of {HOOKS} hooks at once: {HOOKS * BURST / spread:.0f} deliveries/s "
        "(first send to last arrival)",
        *calls_section(),
    ]
    print("\n".join(line.strip() for line in lines[2:]), flush=True)
    return lines


CALLS = ("bench.fair", "--calls")


def calls_section() -> list[str]:
    result = run_module(*CALLS)
    if result.returncode != 0:
        return [f"   store calls per delivery: not measured ({result.stderr.strip().splitlines()[-1:]})"]
    return [f"   {line}" for line in result.stdout.splitlines()]


def calls() -> None:
    """Store calls per delivery in process: CALLS_EVENTS events to one hook whose receiver
    answers 200, through each path; every DynamoDB request counted (pace grants apart)."""
    from bench.cpu import MOCK_ENV

    os.environ.update(MOCK_ENV, HOOKS_ALLOW_HTTP="true", HOOKS_ALLOW_PRIVATE_TARGETS="true")
    import django
    from moto import mock_aws

    from devstack import moto_patches

    with mock_aws(), moto_patches.applied(), receiving() as (base, arrived, _, _):
        django.setup()
        logging.disable(logging.WARNING)
        from hooks import handler
        from hooks.dispatcher import Dispatcher
        from hooks.services import hook_create
        from triggerapi.tables import tables_create

        tables_create()
        rows = []
        for path, offered in (("run_deliveries (fan-out offers)", True), ("AWS (fan-out, then rounds)", False)):
            tenant = f"calls{int(offered)}"
            hook_create(
                tenant_id=tenant, target_url=f"{base}/{tenant}", event_types=[], description=None, created_by="bench"
            )
            stream = stream_of(tenant, CALLS_EVENTS)
            with counted() as count:
                dispatcher = Dispatcher()
                handler.handle_stream(stream, offer=dispatcher.offer if offered else None)
                dispatcher.wait()
                # What no offered turn took, the rounds take, as run_deliveries' dispatcher
                # thread does; a lane put back in line a few ms ahead (for a pace's token)
                # ends a pass until its time comes.
                wait_for(
                    lambda dispatcher=dispatcher: dispatcher.run_until_idle() >= CALLS_EVENTS,
                    "every delivery attempted",
                    30,
                )
            delivered = sum(1 for (p, _) in arrived if p == f"/{tenant}")
            if delivered != CALLS_EVENTS:
                from hooks.models import Delivery

                found = [d for d in Delivery.scan() if d.pk.startswith("dlv#")]
                left = [(d.status, d.attempts, d.due_key, d.last_error) for d in found if d.status != "succeeded"]
                raise SystemExit(f"{path}: {delivered} of {CALLS_EVENTS} delivered; not succeeded: {left}")
            rows.append(
                f"{path}: {(count['all'] - count['grants']) / CALLS_EVENTS:.1f} store calls a delivery "
                f"+ {count['grants'] / CALLS_EVENTS:.2f} for pace grants ({CALLS_EVENTS} events to one hook)"
            )
    print("store calls per delivery, fan-out to outcome, in process:")
    print("\n".join(f"  {row}" for row in rows))


def stream_of(tenant_id: str, count: int) -> dict:
    """`count` new events of the tenant, as the stream hands them to the stream function."""
    from events.models import Event
    from events.services import event_create_batch

    ingested = event_create_batch(tenant_id=tenant_id, payloads=[{"n": n} for n in range(count)])
    records = []
    for n, receipt in enumerate(ingested.receipts):
        image = Event.get(tenant_id, receipt["id"]).serialize()
        records.append({"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": str(n)}})
    return {"Records": records}


@contextmanager
def counted():
    """{'all': DynamoDB requests made inside, 'grants': those of the limits' buckets}."""
    from bench.typed import store_events
    from triggerapi.context import is_limiter_call

    count: Counter = Counter()

    def after(**kwargs):
        count["all"] += 1
        count["grants"] += int(is_limiter_call())

    with store_events({"after-call.dynamodb": after}):
        yield count


if __name__ == "__main__":
    if sys.argv[1:] == ["--calls"]:
        calls()
    else:
        with running_stack() as stack:
            app_in_process(stack)
            section(stack)
