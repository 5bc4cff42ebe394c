"""What the delivery pipeline adds to a tenant's counts: attempts that succeeded or failed,
deliveries that ended, how long after its event's ingest a delivery succeeded, and the
deliveries owed per hook. The pipeline notes each as it records the outcome, and the notes
go to the store together, about once a second (`flush_due`) and when a process or an
invocation ends (`flush`): one transaction per tenant per flush, not one write per attempt.
A transaction's ClientRequestToken makes its retry one write; a process killed between
flushes loses the last second's counts (never the attempts: those are the deliveries' own)."""

import logging
import threading
import time
from collections import Counter, defaultdict

from activity import latency, store
from activity.models import (
    ATTEMPTS_FAILED,
    ATTEMPTS_SUCCEEDED,
    DELIVERIES_FAILED,
    HOUR,
    MINUTE,
    PENDING,
    QUARTER,
    bucket_sk,
    bucket_start,
    counters_key,
    series_pk,
)
from events.ids import created_at_of
from triggerapi import thaw, writes
from triggerapi.store import StoreUnavailable, now_ms

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
# A delivery's final statuses (hooks.models: this module stays below the hooks app).
ENDED_SUCCEEDED, ENDED_FAILED = "succeeded", "failed"
MAX_ITEMS = 100


class Notes:
    def __init__(self):
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._items: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
        self._flushed = time.monotonic()

    def add(self, pk: str, sk: str, tenant_id: str, counts: Counter) -> None:
        with self._lock:
            self._items[(tenant_id, pk, sk)].update(counts)

    def take(self) -> dict:
        with self._lock:
            items, self._items = self._items, defaultdict(Counter)
            self._flushed = time.monotonic()
            return items

    def give_back(self, items: dict) -> None:
        with self._lock:
            for key, counts in items.items():
                self._items[key].update(counts)

    def due(self) -> bool:
        return time.monotonic() - self._flushed >= FLUSH_SECONDS


NOTES = Notes()


def _buckets(tenant_id: str, at: int, counts: Counter, *, minute_only: Counter | None = None) -> None:
    for step in (MINUTE, QUARTER, HOUR):
        start = bucket_start(step, at)
        moved = counts + minute_only if step == MINUTE and minute_only else counts
        NOTES.add(series_pk(tenant_id), bucket_sk(step, start), tenant_id, moved)


def attempt_noted(*, tenant_id: str, hook_id: str, event_id: str, succeeded: bool, ended: str | None, at: int) -> None:
    """An attempt's outcome, recorded at `at`; `ended` the delivery's final status if this
    attempt ended it (succeeded, failed), else None."""
    name = ATTEMPTS_SUCCEEDED if succeeded else ATTEMPTS_FAILED
    counts = Counter({name: 1, f"{name}#{hook_id}": 1})
    minute_only = Counter()
    if ended and succeeded:
        minute_only[f"l#{hook_id}#{latency.bin_of(at - created_at_of(event_id))}"] += 1
    elif ended:
        counts[f"{DELIVERIES_FAILED}#{hook_id}"] += 1
    _buckets(tenant_id, at, counts, minute_only=minute_only)
    if ended:
        delivery_owed(tenant_id=tenant_id, hook_id=hook_id, n=-1)


def attempt_counted(settled, *, succeeded: bool) -> None:
    """The attempt whose outcome just left the delivery `settled` (hooks.models.Delivery)."""
    ended = settled.status if settled.status in (ENDED_SUCCEEDED, ENDED_FAILED) else None
    attempt_noted(
        tenant_id=settled.tenant_id,
        hook_id=settled.hook_id,
        event_id=settled.event_id,
        succeeded=succeeded,
        ended=ended,
        at=now_ms(),
    )


def delivery_owed(*, tenant_id: str, hook_id: str, n: int = 1) -> None:
    """`n` more (or fewer) deliveries owed to the hook: a manual retry owes one again."""
    NOTES.add(*counters_key(tenant_id), tenant_id, Counter({f"{PENDING}#{hook_id}": n}))


def flush_due() -> None:
    """`flush` if the last was a second ago or more (a dispatcher's loop calls it often)."""
    if NOTES.due():
        flush()


def flush() -> None:
    """The notes to the store, one transaction per tenant (100 items each); what the store
    does not take is kept for the next flush. One flush at a time per process."""
    if not NOTES._flushing.acquire(blocking=False):
        return
    try:
        items = NOTES.take()
        by_tenant: dict[str, list] = defaultdict(list)
        for (tenant_id, pk, sk), counts in items.items():
            by_tenant[tenant_id].append((pk, sk, counts))
        for tenant_id, writes_of in by_tenant.items():
            _flush_tenant(tenant_id, writes_of, items)
    finally:
        NOTES._flushing.release()


# Counts noted before a SnapStart snapshot go to the store once, from the process that noted
# them; what the store did not take then is dropped in each restored copy rather than added
# once per copy (triggerapi/thaw.py).
thaw.before_snapshot(flush)
thaw.after_restore(NOTES.take)


def _flush_tenant(tenant_id: str, writes_of: list, items: dict) -> None:
    updates = []
    for pk, sk, counts in writes_of:
        expires = None if pk.startswith("cnt#") else store.bucket_expiry(sk[0], int(sk[2:]))
        update = store.adds(pk, sk, counts, expires_at_ms=expires)
        if update is not None:
            updates.append(((tenant_id, pk, sk), update))
    for start in range(0, len(updates), MAX_ITEMS):
        chunk = updates[start : start + MAX_ITEMS]
        try:
            store.transact([update for _, update in chunk], token=writes.new_token())
        except StoreUnavailable as exc:
            # Taken or not, the store cannot say (maybe_applied): kept only if surely not.
            if not exc.maybe_applied:
                NOTES.give_back({key: items[key] for key, _ in chunk})
            log.warning("delivery counts not written", extra={"tenant": tenant_id, "error": str(exc)})
