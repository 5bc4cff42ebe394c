"""Reads filtered by event_type behind 10,000 events of other types: the store calls a typed
claim, a filtered list page and a replay by type make, and the items each call read (the
store's ScannedCount for a query, which counts what a filter expression drops). With the type
a key condition, none of them reads the 10,000. In process, on moto's in-process mock.

    .venv/bin/python -m bench.typed [--others 10000]

`make bench` runs it in an interpreter of its own (section()), as bench.cpu.
"""

import argparse
import logging
import os
from contextlib import contextmanager

from bench.cpu import MOCK_ENV
from bench.harness import SMOKE, run_module


@contextmanager
def calls_read():
    """(operation, index, items read) of every store call made inside, in order; the rate
    limiter's are left out (counted apart, and when they happen depends on the clock)."""
    from triggerapi.context import is_limiter_call

    calls: list[tuple[str, str | None, int | None]] = []

    def before(model, params, context, **kwargs):
        context["index"] = params.get("IndexName")

    def after(model, parsed, context, **kwargs):
        if is_limiter_call():
            return
        if model.name in ("Query", "Scan"):
            read = parsed.get("ScannedCount")
        elif model.name == "GetItem":
            read = 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            read = sum(len(items) for items in parsed.get("Responses", {}).values())
        else:
            read = None
        calls.append((model.name, context.pop("index", None), read))

    with store_events({"before-parameter-build.dynamodb": before, "after-call.dynamodb": after}):
        yield calls


@contextmanager
def store_events(handlers: dict):
    """`handlers` (botocore event name -> function) on every store client while inside."""
    from triggerapi import store
    from triggerapi.tables import all_models

    systems = {id(store.client(m).meta.events): store.client(m).meta.events for m in all_models()}.values()
    for events in systems:
        for name, handler in handlers.items():
            events.register(name, handler)
    try:
        yield
    finally:
        for events in systems:
            for name, handler in handlers.items():
                events.unregister(name, handler)


def describe(calls) -> str:
    reads = [c for c in calls if c[2] is not None]
    read = sum(c[2] for c in reads)
    kinds = ", ".join(
        f"{op}{' ' + index if index else ''}" + (f" ({n} read)" if n is not None else "") for op, index, n in calls
    )
    return f"{len(calls)} store calls, {read} items read: {kinds}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--others", type=int, default=10_000)
    others = parser.parse_args().others
    os.environ.update(MOCK_ENV)
    import django
    from moto import mock_aws

    with mock_aws():
        django.setup()
        logging.disable(logging.INFO)
        from django.test import Client

        from events.ids import new_event_ids
        from events.lifecycle import new_event
        from events.models import Event
        from tenants.services import api_key_issue
        from triggerapi import writes
        from triggerapi.tables import tables_create

        tables_create()
        key = api_key_issue(tenant_id="typed", scopes=("ingest", "consume"))[1]
        client = Client(headers={"Authorization": f"Bearer {key}"})
        items = [
            new_event("typed", event_id, {"event_type": f"other.{n % 7}", "n": n}).serialize()
            for n, event_id in enumerate(new_event_ids(others))
        ]
        for start in range(0, len(items), 25):
            assert writes.batch_put(Event, items[start : start + 25]) == []
        wanted = client.post("/v1/events", {"event_type": "wanted"}, content_type="application/json").json()["id"]
        client.get("/v1/me")  # the key and the tenant's limits are read before the measured calls

        with calls_read() as listed:
            page = client.get("/v1/events?event_type=wanted&limit=100").json()
        assert [e["id"] for e in page["events"]] == [wanted] and page["has_more"] is False, page
        with calls_read() as claimed:
            taken = client.post("/v1/events/claim", {"event_type": "wanted"}, content_type="application/json").json()
        assert [e["id"] for e in taken["events"]] == [wanted], taken
        with calls_read() as empty:
            none = client.post("/v1/events/claim", {"event_type": "none-such"}, content_type="application/json")
        assert none.json() == {"events": []}
        client.post(f"/v1/events/{wanted}/ack")
        replay = {"since": 0, "until": 2**41, "event_type": "wanted"}
        with calls_read() as replayed:
            moved = client.post("/v1/events/replay", replay, content_type="application/json").json()
        print(f"| read, behind {others:,} events of other types | store calls and items read | target |")
        print("|---|---|---|")
        print(f"| filtered list page (the one match, has_more false) | {describe(listed)} | <= 2 calls |")
        before_write = claimed[: next(i for i, c in enumerate(claimed) if c[2] is None)]
        claim_row = f"{describe(claimed)}; {len(before_write)} before its write"
        print(f"| typed claim, the one match | {claim_row} | <= 3 reads before the write |")
        print(f"| typed claim, no match | {describe(empty)} | reads nothing of the others |")
        print(f"| replay by type ({moved['replayed']} moved) | {describe(replayed)} | reads only that type |")


OTHERS = "1000" if SMOKE else "10000"
ARGS = ("bench.typed", "--others", OTHERS)


def section() -> list[str]:
    """This module's table, from an interpreter of its own (mock_aws patches the process)."""
    result = run_module(*ARGS)
    if result.returncode:
        raise RuntimeError("bench.typed failed:\n" + result.stderr[-3000:])
    return ["", f"8. reads by type (bench/typed.py, in process, {OTHERS} others)", *result.stdout.splitlines()]


if __name__ == "__main__":
    main()
