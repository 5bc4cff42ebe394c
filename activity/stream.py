"""Applying the events table's stream records to what a tenant sees: history entries,
counts of events in each status, the series' buckets and the deliveries owed per hook.

One tenant's changes of a batch go in as few transactions as fit (100 items each): each
change's mark (its first history entry) is put only if absent, beside every count the
changes move. A record handed over twice finds its mark: the transaction is canceled, names
the marks found, and goes again without those changes; so a count moves once per record
whatever Lambda or `run_deliveries` hands over again, and nothing depends on how batches
are cut or which shard a record came from."""

from collections import Counter, defaultdict

from activity import store
from activity.models import HOUR, MINUTE, QUARTER, bucket_sk, bucket_start, counters_key, history_pk, series_pk
from activity.records import REMOVED, Change
from triggerapi import writes
from triggerapi.store import TransactionCanceled

MAX_ITEMS = 100
STEPS = (MINUTE, QUARTER, HOUR)


def changes_apply(tenant_id: str, changes: list[Change]) -> None:
    """StoreUnavailable when the store fails: the records are then handed over again, and
    what was applied is recognised by its marks."""
    rest = list(changes)
    while rest:
        chunk = _chunk(rest)
        _apply(tenant_id, chunk)
        rest = rest[len(chunk) :]
    for change in changes:
        if change.forget:
            _forget(change)


def _chunk(changes: list[Change]) -> list[Change]:
    """The longest run of changes from the first whose transaction holds at most 100 items
    (one per entry put or dropped, per bucket moved, and the counters)."""
    items, buckets = 1, set()
    for size, change in enumerate(changes):
        more = {(step, bucket_start(step, at)) for _, at in change.happened for step in STEPS} - buckets
        items += len(change.entries) + len(change.drop) + len(more)
        if items > MAX_ITEMS:
            return changes[: max(size, 1)]
        buckets |= more
    return changes


def _apply(tenant_id: str, changes: list[Change]) -> None:
    while changes:
        items = _items(tenant_id, changes)
        if not items:
            return
        try:
            store.transact(items, token=writes.new_token())
            return
        except TransactionCanceled as exc:
            found = {_mark_key(item) for item, failed in zip(items, exc.failed, strict=False) if failed}
            kept = [change for change in changes if _key(change.entries[0]) not in found]
            if len(kept) == len(changes):
                raise
            changes = kept


def _key(item: dict) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def _mark_key(item: dict) -> tuple[str, str] | None:
    put = item.get("Put")
    return _key(put["Item"]) if put else None


def _items(tenant_id: str, changes: list[Change]) -> list[dict]:
    puts: dict[tuple[str, str], dict] = {}
    marks: set[tuple[str, str]] = set()
    drops: set[tuple[str, str]] = set()
    counts: Counter = Counter()
    buckets: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for change in changes:
        marks.add(_key(change.entries[0]))
        for entry in change.entries:
            puts[_key(entry)] = entry
        drops.update(change.drop)
        counts.update(change.counts)
        for metric, at in change.happened:
            for step in STEPS:
                buckets[(step, bucket_start(step, at))][metric] += 1
    # An entry dropped by a later change of the same batch is neither put nor deleted (the
    # middle extensions of a lease: they count nothing, so their marks need not stay).
    both = drops & set(puts)
    items = [store.put(item, if_absent=key in marks) for key, item in puts.items() if key not in both]
    items += [store.delete(*key) for key in drops - both]
    pk, sk = counters_key(tenant_id)
    items.append(store.adds(pk, sk, counts))
    for (step, start), moved in buckets.items():
        items.append(
            store.adds(
                series_pk(tenant_id), bucket_sk(step, start), moved, expires_at_ms=store.bucket_expiry(step, start)
            )
        )
    return [item for item in items if item is not None]


def _forget(change: Change) -> None:
    """A removed event's history goes with it; its mark stays (two days) to tell the REMOVE
    record handed over again."""
    pk = history_pk(change.tenant_id, change.event_id)
    store.deletes(pk, [sk for sk in store.partition_keys(pk) if sk != REMOVED])
