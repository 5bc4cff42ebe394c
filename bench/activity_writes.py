"""The activity table's writes (OBSERVE.md: counters, buckets and history from the events
table's stream; the delivery pipeline's counts flushed about once a second), counted in
process on moto's mock (the store's own counts, not its speed), for section 10 of
`make bench` (bench/activity.py); bench/activity_store.py counts and prices them.

- ingest: `--events` events ingested by batch, their INSERT records handed to the stream
  function (hooks.handler.handle_stream) in batches of 100 (zappa_settings.json's
  batch_size), the images those of the writes themselves;
- a claim and an ack of `--settled` of them (claims of 100, acks of 100), their MODIFY
  records likewise (moto's conditional updates are slow, and what the stream writes per
  transition is the same for each batch of 100);
- the pipeline's flush: run_deliveries' dispatcher on a thread of its own, fan-out offering
  it the deliveries of FLUSH_TENANTS tenants with FLUSH_HOOKS hooks each, `--flush-events`
  events a tenant.

    .venv/bin/python -m bench.activity_writes [--events 1000] [--settled 100] [--flush-events 5]
"""

import argparse
import logging
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager

from bench.activity_store import KB, Written, bucket_anatomy, recorded, sizes_of, wcu
from bench.cpu import MOCK_ENV
from bench.typed import store_events
from bench.webhooks import receiving

STREAM_BATCH = 100
CLAIM = 100
FLUSH_TENANTS = 3
FLUSH_HOOKS = 4


def record(name: str, old: dict | None, new: dict, n: int) -> dict:
    """A stream record as Lambda hands it to the stream function."""
    data = {"Keys": {"tenant_id": new["tenant_id"], "sk": new["sk"]}, "NewImage": new}
    if old is not None:
        data["OldImage"] = old
    data |= {"SequenceNumber": str(n), "ApproximateCreationDateTime": int(time.time())}
    return {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": data}


@contextmanager
def images_written():
    """{event id: item} of the events written inside, as the stream's NewImage of each
    write holds it: the items a BatchWriteItem put, the items an UpdateItem left (ALL_NEW,
    as a claim asks). Read from the calls themselves: moto's reads of 1,000 items are slow."""
    from events.ids import EVENT_PREFIX
    from events.models import Event

    found: dict[str, dict] = {}

    def keep(item: dict) -> None:
        if item.get("sk", {}).get("S", "").startswith(EVENT_PREFIX):
            found[item["sk"]["S"]] = item

    def before(model, params, **kwargs):
        for request in params.get("RequestItems", {}).get(Event.Meta.table_name, []):
            keep(request.get("PutRequest", {}).get("Item", {}))

    def after(model, parsed, **kwargs):
        if model.name == "UpdateItem":
            keep(parsed.get("Attributes", {}))

    with store_events({"before-parameter-build.dynamodb": before, "after-call.dynamodb": after}):
        yield found


def images_of(tenant_id: str, event_ids: list[str]) -> dict[str, dict]:
    """{event id: item} as the table holds them now (BatchGetItem, 100 at a time)."""
    from events.models import Event
    from triggerapi.store import client

    table, found = Event.Meta.table_name, {}
    for start in range(0, len(event_ids), 100):
        keys = [{"tenant_id": {"S": tenant_id}, "sk": {"S": e}} for e in event_ids[start : start + 100]]
        while keys:
            answer = client(Event).batch_get_item(RequestItems={table: {"Keys": keys}})
            found |= {item["sk"]["S"]: item for item in answer["Responses"].get(table, [])}
            keys = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found


def ingest(tenant_id: str, count: int) -> None:
    from events.services import event_create_batch

    for start in range(0, count, 100):
        payloads = [{"event_type": "bench", "n": n} for n in range(start, min(count, start + 100))]
        event_create_batch(tenant_id=tenant_id, payloads=payloads)


def handed(records: list[dict], offer=None) -> None:
    from hooks import handler

    for start in range(0, len(records), STREAM_BATCH):
        answer = handler.handle_stream({"Records": records[start : start + STREAM_BATCH]}, offer=offer)
        assert answer == {"batchItemFailures": []}, answer


def row(name: str, written: Written, per: int) -> str:
    sizes = sizes_of(written.keys())
    kinds = Counter(kind for t in written.transactions for kind, _, _ in t)
    return (
        f"| {name} | {written.calls / per:.3f} | {written.items() / per:.3f} | {wcu(written, sizes) / per:.2f} "
        f"| {written.all_calls / per:.3f} | {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}; "
        f"{len(written.standard)} standard writes |"
    )


def size_line(phases: dict[str, Written]) -> str:
    from activity.models import COUNTERS_SK

    entries = {
        name: max(size for t in w.transactions for kind, _, size in t if kind == "Put") for name, w in phases.items()
    }
    sizes = sizes_of(set().union(*(w.keys() for w in phases.values())))
    counters = max(s for (_, sk), s in sizes.items() if sk == COUNTERS_SK)
    buckets = "/".join(str(max((s for (_, sk), s in sizes.items() if sk[0] == step), default=0)) for step in "mqh")
    said = ", ".join(f"{name} {size} B" for name, size in entries.items())
    return f"item sizes: history entries {said}; counters {counters} B; buckets (m/q/h) {buckets} B"


def stream_phases(events: int, settled: int) -> list[str]:
    """`events` ingested; the first `settled` of them claimed and acked (moto's conditional
    updates are slow, and the activity's writes per transition are the same per batch)."""
    from activity.selectors import stats_get
    from events.services.claim import event_claim
    from events.services.settle import event_ack_many

    tenant = "writes"
    with images_written() as ingested:
        ingest(tenant, events)
    with recorded() as on_ingest:
        handed([record("INSERT", None, image, n) for n, image in enumerate(ingested.values())])
    order: list[str] = []
    with images_written() as claimed:
        while len(order) < settled:
            taken = event_claim(tenant_id=tenant, limit=min(CLAIM, settled - len(order)), lease_seconds=600)
            assert taken, f"{settled} to settle, {events} ingested"
            order += [event.event_id for event in taken]
    for start in range(0, len(order), CLAIM):
        assert event_ack_many(tenant_id=tenant, event_ids=order[start : start + CLAIM])[1] == []
    acked = images_of(tenant, order)
    with recorded() as on_claim:
        handed([record("MODIFY", ingested[e], claimed[e], n) for n, e in enumerate(order)])
    with recorded() as on_ack:
        handed([record("MODIFY", claimed[e], acked[e], n) for n, e in enumerate(order)])
    both = Written(
        on_claim.calls + on_ack.calls,
        on_claim.all_calls + on_ack.all_calls,
        on_claim.transactions + on_ack.transactions,
        on_claim.standard + on_ack.standard,
    )
    seen = stats_get(tenant_id=tenant)["events"]
    counted = (seen["undelivered"], seen["ingested"]["1h"], seen["delivered"]["1h"])
    assert counted == (events - settled, events, settled), seen
    head = "| per | activity store calls | transaction items | WCU | all store calls | items |"
    return [
        f"stream side, {events:,} events ingested, {settled:,} of them claimed and acked, stream batches of "
        f"{STREAM_BATCH} (no hooks):",
        head,
        "|---|---|---|---|---|---|",
        row("ingest, per event", on_ingest, events),
        row("claim, per transition", on_claim, len(order)),
        row("ack, per transition", on_ack, len(order)),
        row("claim + ack, per event", both, len(order)),
        size_line({"ingested": on_ingest, "claimed": on_claim, "acked": on_ack}),
    ]


def flush_phase(per_tenant: int) -> list[str]:
    """The pipeline's counts while delivering: one transaction per tenant per flush."""
    from devstack.processes import wait_for
    from hooks.dispatcher import Dispatcher
    from hooks.services import hook_create

    with receiving() as (base, arrived, _, _):
        tenants = [f"flush{n}" for n in range(FLUSH_TENANTS)]
        for tenant in tenants:
            for h in range(FLUSH_HOOKS):
                target = f"{base}/{tenant}/{h}"
                hook_create(tenant_id=tenant, target_url=target, event_types=[], description=None, created_by="bench")
        streams = []
        for tenant in tenants:
            with images_written() as made:
                ingest(tenant, per_tenant)
            streams.append([record("INSERT", None, image, n) for n, image in enumerate(made.values())])
        total = FLUSH_TENANTS * FLUSH_HOOKS * per_tenant
        dispatcher, stop = Dispatcher(), threading.Event()
        runner = threading.Thread(target=dispatcher.run, kwargs={"stop": stop})
        with recorded() as written:
            started = time.monotonic()
            runner.start()
            for records in streams:
                handed(records, offer=dispatcher.offer)
            wait_for(lambda: len(arrived) >= total, f"{total} deliveries", 120)
            delivering = time.monotonic() - started
            stop.set()
            runner.join()
    ended = started + delivering
    # A flush's transaction holds updates only; the stream's each put a history entry.
    pairs = zip(written.transactions, written.at, strict=True)
    flushes = [(t, at) for t, at in pairs if all(kind != "Put" for kind, *_ in t)]
    during = [t for t, at in flushes if at <= ended]
    flushed = Written(transactions=[t for t, _ in flushes])
    sizes = sizes_of(flushed.keys())
    counters = max(s for (pk, sk), s in sizes.items() if sk == "counters")
    minute, per_hook, bins = bucket_anatomy(
        max((k for k in sizes if k[1].startswith("m#")), key=sizes.get), hooks=FLUSH_HOOKS
    )
    return [
        f"pipeline flush (run_deliveries' dispatcher in process): {total} deliveries to {FLUSH_TENANTS} tenants x "
        f"{FLUSH_HOOKS} hooks in {delivering:.1f} s ({total / delivering:.0f}/s): {len(during)} flush transactions "
        f"while delivering = {len(during) / delivering:.1f}/s ({len(during) / delivering / FLUSH_TENANTS:.2f} per "
        f"tenant-second), {flushed.items() / max(1, len(flushes)):.1f} items and "
        f"{wcu(flushed, sizes) / max(1, len(flushes)):.1f} WCU each, {len(flushes) - len(during)} more at the end",
        f"with {FLUSH_HOOKS} hooks: counters {counters} B; a minute bucket {minute} B, {per_hook:.0f} B a hook "
        f"({bins / FLUSH_HOOKS:.1f} latency bins a hook): past about {(KB - minute) / per_hook + FLUSH_HOOKS:.0f} "
        "hooks delivering in one minute it passes 1 KB (4 WCU an update in a transaction)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--settled", type=int, default=100)
    parser.add_argument("--flush-events", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(MOCK_ENV, HOOKS_ALLOW_HTTP="true", HOOKS_ALLOW_PRIVATE_TARGETS="true")
    import django
    from moto import mock_aws

    from devstack import moto_patches

    with mock_aws(), moto_patches.applied():
        django.setup()
        logging.disable(logging.WARNING)
        from triggerapi.tables import tables_create

        tables_create()
        lines = stream_phases(args.events, args.settled)
        lines += flush_phase(args.flush_events)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
