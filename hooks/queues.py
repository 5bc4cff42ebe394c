"""What a dispatcher's turn reads and takes for one hook (hooks/dispatcher.py): the hook's
queue of due deliveries, the hook itself, and the tokens of its pace (its tenant's
`deliveries_per_second` and its own `rate_limit`, shared buckets in the store); and the
deliveries left in the shards used before each hook had its own queue."""

import threading
from collections import OrderedDict
from dataclasses import dataclass

from hooks import lanes
from hooks.models import Delivery, Hook, due_shard_for, legacy_due_shards
from limits.buckets import BUCKETS
from limits.gcra import Shape
from limits.selectors import tenant_limits
from triggerapi import store, writes
from triggerapi.context import limiter_calls
from triggerapi.store import ConditionFailed


@dataclass(frozen=True)
class Due:
    """A pending delivery in its hook's queue: due at `due_ms` (its retry, or when its claim
    runs out)."""

    pk: str
    event_id: str
    due_key: str
    # A delivery fan-out just created in this process (hooks/dispatcher.py `offer`): known
    # whole, with its event's body, so its claim reads nothing back.
    new: Delivery | None = None
    body: str | None = None

    @property
    def due_ms(self) -> int:
        return int(self.due_key.split("#", 1)[0])


# What one process keeps of the deliveries its fan-out made, in their events' bodies' bytes.
KNOWN_BYTES = 32 * 1024 * 1024


class Known:
    """Deliveries fan-out in this process made (`Due` with `new` and `body`), until a turn takes
    them: a turn that finds one in its hook's queue, still as it was made, claims it without
    reading it back and attempts it without reading its event. The oldest are forgotten past
    KNOWN_BYTES of bodies (a turn then reads them, as any)."""

    def __init__(self, most_bytes: int = KNOWN_BYTES):
        self._entries: OrderedDict = OrderedDict()
        self._bytes, self._most = 0, most_bytes
        self._lock = threading.Lock()

    def add(self, entries: list[Due]) -> None:
        with self._lock:
            for entry in entries:
                key = (entry.pk, entry.event_id)
                if key not in self._entries:
                    self._entries[key] = entry
                    self._bytes += len(entry.body or "")
            while self._bytes > self._most and self._entries:
                _, oldest = self._entries.popitem(last=False)
                self._bytes -= len(oldest.body or "")

    def match(self, entry: Due) -> Due:
        """The entry as fan-out made it, if it is still that (due as made), else `entry`."""
        with self._lock:
            found = self._entries.get((entry.pk, entry.event_id))
        return found if found is not None and found.due_key == entry.due_key else entry

    def forget(self, entry: Due) -> None:
        with self._lock:
            found = self._entries.pop((entry.pk, entry.event_id), None)
            if found is not None:
                self._bytes -= len(found.body or "")


def hook_queue(tenant_id: str, hook_id: str, limit: int) -> list[Due]:
    """The hook's pending deliveries, soonest due first: those due now, and after them the
    next one, which says when the hook next has work."""
    shard = due_shard_for(Delivery.pk_for(tenant_id, hook_id))

    def read():
        found = Delivery.due_index.query(shard, limit=limit, page_size=limit)
        # An entry without its key is a delivery that left the queue as it was read (moto's
        # in-process mock can show one; DynamoDB's index never does): not due.
        return [Due(d.pk, d.event_id, d.due_key) for d in found if d.due_key]

    return store.call(read, what="Query a hook's due deliveries")


def hook_read(tenant_id: str, hook_id: str):
    """The hook, read once a turn (its status and rate_limit); None once it is deleted, which
    claim_due then tells its deliveries."""
    try:
        return store.call(lambda: Hook.get(tenant_id, Hook.key_for(hook_id), consistent_read=True), what="GetItem Hook")
    except Hook.DoesNotExist:
        return None


def tokens(tenant_id: str, hook, wanted: int) -> tuple[int, int]:
    """Tokens for up to `wanted` attempts, one of the tenant's deliveries_per_second and one of
    the hook's rate_limit each: (0, n) when all were given, else (milliseconds until the next
    would be, n given)."""
    with limiter_calls():
        return _tokens_taken(tenant_id, hook, wanted)


def _grant_most(rate: int) -> int:
    """The most tokens of a pace one store call takes ahead: an eighth of a second's worth.
    A process spends what it took later than the bucket gave it, so a bigger grant would
    let one second hold more than the rate; one token a call would cost a store call an
    attempt."""
    return max(1, rate // 8)


def _tokens_taken(tenant_id: str, hook, wanted: int) -> tuple[int, int]:
    rate = tenant_limits(tenant_id=tenant_id).deliveries_per_second
    own = hook.rate_limit if hook is not None else None
    for given in range(wanted):
        answer = BUCKETS.take(f"deliveries:{tenant_id}", Shape(rate, max(1, rate)), grant_most=_grant_most(rate))
        if answer.allowed and own:
            answer = BUCKETS.take(
                f"hook:{tenant_id}:{hook.hook_id}", Shape(own, max(1, own)), grant_most=_grant_most(own)
            )
        if not answer.allowed:
            return max(1, round(answer.retry_after * 1000)), given
    return 0, wanted


def legacy_due_rekey() -> int:
    """Deliveries made due before each hook had its own queue sit in the old shards, where
    the dispatcher never looks: each goes to its hook's queue (on condition it is still
    there) and its lane is marked ready. Nothing is there after the first run; one Query a
    shard costs little, so every dispatch invocation asks."""
    moved = 0
    for shard in legacy_due_shards():

        def read(shard=shard):
            return list(Delivery.due_index.query(shard, limit=100, page_size=100))

        for found in store.call(read, what="Query legacy due shard"):
            try:
                writes.update(
                    Delivery,
                    found.pk,
                    found.event_id,
                    actions=[Delivery.due_shard.set(due_shard_for(found.pk))],
                    condition=Delivery.due_shard == shard,
                    token=None,
                    return_item=False,
                )
            except ConditionFailed:
                continue
            tenant_id, hook_id = found.pk.removeprefix("dlv#").rsplit("#", 1)
            lanes.lane_notify(tenant_id=tenant_id, hook_id=hook_id, due_ms=int(found.due_key.split("#", 1)[0]))
            moved += 1
    return moved
