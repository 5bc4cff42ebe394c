"""The dispatcher: takes due deliveries fairly and attempts them (LIMITS.md, "Webhook
fairness"). Fan-out only creates deliveries and marks their hooks' lanes ready; attempts
start here, the same code in `run_deliveries` and in the dispatch function on AWS.

One turn reads the ready lanes (hooks/lanes.py), those ready longest first, and serves each:
up to TURN_MOST of the hook's due deliveries, as many as it has places in flight for
(HOOK_MAX_IN_FLIGHT across every process) and tokens of its tenant's
`deliveries_per_second` and of its own `rate_limit` (limits/buckets.py: shared buckets),
then puts the lane at the back of the line. So a hook's backlog waits its turn behind every
other hook with work, a receiver that hangs holds only its own places, and whatever waits for
a turn has not made an attempt. Attempts run on this process's pool; each gives its place
back as it ends, and wakes its lane if the lane had been set aside for want of one."""

import contextvars
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings

from hooks import lanes
from hooks.dispatch import attempt, claim_due, fits
from hooks.fanout import LOGGER
from hooks.lanes import READY_SHARDS, Ready
from hooks.lifecycle import claim_ms
from hooks.models import Delivery, Hook, due_shard_for, legacy_due_shards
from limits.buckets import BUCKETS
from limits.gcra import Shape
from limits.selectors import tenant_limits
from triggerapi import store, writes
from triggerapi.context import limiter_calls
from triggerapi.store import ConditionFailed, StoreUnavailable, now_ms

log = logging.getLogger(LOGGER)

# The most one hook starts in one turn, so that a turn ends soon and the next hook's comes.
TURN_MOST = 10
# Lanes served at once by one process.
TURNS_AT_ONCE = 8
# How long a hook read for its turns is used (a rate_limit changed applies within it).
HOOK_CACHE_SECONDS = 5.0
# Attempts one process runs at once, all hooks together.
POOL_SIZE = 32


class Dispatcher:
    def __init__(self, pool_size: int = POOL_SIZE):
        self._pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="attempt")
        # Lanes are served side by side too: a turn is a few store calls, and one slow lane's
        # must not hold the others'.
        self._turns = ThreadPoolExecutor(max_workers=TURNS_AT_ONCE, thread_name_prefix="turn")
        self._free = threading.BoundedSemaphore(pool_size)
        self._running: set = set()
        self._lock = threading.Lock()
        self._woken = threading.Event()
        # Hooks as read at most HOOK_CACHE_SECONDS ago: (tenant, hook) -> (hook or None, when).
        self._hooks: dict = {}
        # Attempts made (a claim lost to another process, or to a deleted or disabled hook,
        # makes none).
        self.attempted = 0

    def round(self, *, deadline_ms: int | None = None) -> int:
        """One look at every ready lane, those ready longest first; the deliveries it handed
        to the pool (each is claimed there, then attempted)."""
        now = now_ms()
        found = self._turns.map(lambda shard: lanes.lanes_ready(shard=shard, now_ms=now), range(READY_SHARDS))
        ready = sorted((lane for shard in found for lane in shard), key=lambda lane: lane.ready_key)
        return sum(self._turns.map(lambda lane: self._serve_logged(lane, deadline_ms), ready))

    def run(self, *, deadline_ms: int | None = None, stop: threading.Event | None = None, idle_s: float = 0.2) -> int:
        """Rounds until `stop` is set, or the deadline leaves no room for another attempt;
        then waits for the attempts it started. The attempts made."""
        stop = stop or threading.Event()
        while not stop.is_set() and self._has_room(deadline_ms):
            self._woken.clear()
            try:
                made = self.round(deadline_ms=deadline_ms)
            except StoreUnavailable as exc:
                log.warning("ready lanes not read", extra={"error": str(exc)})
                made = 0
            if not made:
                self._woken.wait(idle_s)
        self.wait()
        return self.attempted

    def wake(self) -> None:
        """Work was just made due here (a fan-out in this process): the next round starts now
        rather than after the idle wait."""
        self._woken.set()

    def run_until_idle(self, *, deadline_ms: int | None = None) -> int:
        """Rounds while they start attempts (and the deadline leaves room), then waits for
        them: what is due now, made (`run_deliveries --once`, a test). The attempts made."""
        while self._has_room(deadline_ms) and self.round(deadline_ms=deadline_ms):
            pass
        self.wait()
        return self.attempted

    def wait(self) -> None:
        with self._lock:
            running = list(self._running)
        for future in running:
            future.exception()

    def _has_room(self, deadline_ms: int | None) -> bool:
        """An attempt started now ends before the deadline (a function that must stop)."""
        return fits(deadline_ms)

    def _serve_logged(self, ready: Ready, deadline_ms: int | None) -> int:
        try:
            return self._serve(ready, deadline_ms)
        except StoreUnavailable as exc:
            log.warning("lane not served", extra={"hook_id": ready.hook_id, "error": str(exc)})
            return 0

    def _serve(self, ready: Ready, deadline_ms: int | None) -> int:
        """One turn of a lane: up to TURN_MOST of its due deliveries handed to the pool, and
        the lane back in line (at the back if it has more due, else when it next has)."""
        tenant_id, hook_id = ready.tenant_id, ready.hook_id
        version = ready.version
        now = now_ms()
        queue = hook_queue(tenant_id, hook_id, TURN_MOST + 1)
        due = [entry for entry in queue if entry.due_ms <= now]
        later = [entry.due_ms for entry in queue if entry.due_ms > now]
        if not due:
            lanes.lane_requeue(
                tenant_id=tenant_id, hook_id=hook_id, version=version, next_due_ms=min(later, default=None)
            )
            return 0
        slots = self._slots(min(len(due), TURN_MOST), deadline_ms)
        until = now + claim_ms()
        if slots:
            taken = lanes.in_flight_take(
                tenant_id=tenant_id,
                hook_id=hook_id,
                attempt_ids=[writes.new_token() for _ in range(slots)],
                until_ms=until,
                cap=settings.HOOK_MAX_IN_FLIGHT,
                now_ms=now,
            )
            places = taken.taken
            if not places:
                self._give_back(slots)
                lanes.lane_set_aside(
                    tenant_id=tenant_id, hook_id=hook_id, version=version, until_ms=taken.first_free_ms
                )
                return 0
        else:
            places = []
        hook = self._hook(tenant_id, hook_id)
        refused, usable = _tokens(tenant_id, hook, len(places))
        unused = places[usable:]
        if unused:
            lanes.in_flight_release(tenant_id=tenant_id, hook_id=hook_id, attempt_ids=unused, now_ms=now_ms())
        self._give_back(slots - usable)
        hooks = {(tenant_id, hook_id): hook}
        for entry, place in zip(due, places[:usable], strict=False):
            self._start(entry, place, hooks)
        if refused:
            next_due = now_ms() + refused
        elif len(due) > usable:
            next_due = now_ms()  # more due: the back of the line
        else:
            next_due = min([*later, until])  # its next retry, or when a claim made now runs out
        lanes.lane_requeue(tenant_id=tenant_id, hook_id=hook_id, version=version, next_due_ms=next_due)
        return usable

    def _hook(self, tenant_id: str, hook_id: str):
        """The hook (its rate_limit, and whether it still exists), read at most every
        HOOK_CACHE_SECONDS: a claim checks in the store that it is still active anyway."""
        key = (tenant_id, hook_id)
        found = self._hooks.get(key)
        if found is None or found[1] < time.monotonic() - HOOK_CACHE_SECONDS:
            if len(self._hooks) >= 10_000:
                self._hooks.clear()
            found = self._hooks[key] = (_hook(tenant_id, hook_id), time.monotonic())
        return found[0]

    def _slots(self, wanted: int, deadline_ms: int | None) -> int:
        """Room in this process's pool for up to `wanted` attempts, taken."""
        if not self._has_room(deadline_ms):
            return 0
        taken = 0
        while taken < wanted and self._free.acquire(blocking=False):
            taken += 1
        return taken

    def _give_back(self, slots: int) -> None:
        for _ in range(slots):
            self._free.release()

    def _start(self, entry: "Due", place: str, hooks: dict) -> None:
        future = self._pool.submit(contextvars.copy_context().run, self._claim_and_attempt, entry, place, hooks)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        with self._lock:
            self._running.discard(future)
        self._free.release()

    def _claim_and_attempt(self, entry: "Due", place: str, hooks: dict) -> None:
        tenant_id, hook_id = entry.pk.removeprefix("dlv#").rsplit("#", 1)
        try:
            claim = claim_due(entry.pk, entry.event_id, entry.due_key, hooks)
            if claim is not None:
                with self._lock:
                    self.attempted += 1
                attempt(claim)  # outcomes.outcome_record wakes the lane for a retry
        except Exception as exc:  # the claim runs out and the delivery is due again
            log.warning("delivery attempt failed", extra={"hook_id": hook_id, "error": f"{type(exc).__name__}: {exc}"})
        finally:
            try:
                lanes.in_flight_release(tenant_id=tenant_id, hook_id=hook_id, attempt_ids=[place], now_ms=now_ms())
            except StoreUnavailable as exc:
                log.warning(
                    "in-flight place not given back (it runs out)", extra={"hook_id": hook_id, "error": str(exc)}
                )


@dataclass(frozen=True)
class Due:
    """A pending delivery in its hook's queue: due at `due_ms` (its retry, or when its claim
    runs out)."""

    pk: str
    event_id: str
    due_key: str

    @property
    def due_ms(self) -> int:
        return int(self.due_key.split("#", 1)[0])


def hook_queue(tenant_id: str, hook_id: str, limit: int) -> list[Due]:
    """The hook's pending deliveries, soonest due first: those due now, and after them the
    next one, which says when the hook next has work."""
    shard = due_shard_for(Delivery.pk_for(tenant_id, hook_id))

    def read():
        return [Due(d.pk, d.event_id, d.due_key) for d in Delivery.due_index.query(shard, limit=limit, page_size=limit)]

    return store.call(read, what="Query a hook's due deliveries")


def _hook(tenant_id: str, hook_id: str):
    """The hook, read once a turn (its status and rate_limit); None once it is deleted, which
    claim_due then tells its deliveries."""
    try:
        return store.call(lambda: Hook.get(tenant_id, Hook.key_for(hook_id), consistent_read=True), what="GetItem Hook")
    except Hook.DoesNotExist:
        return None


def _tokens(tenant_id: str, hook, wanted: int) -> tuple[int, int]:
    """Tokens for up to `wanted` attempts, one of the tenant's deliveries_per_second and one of
    the hook's rate_limit each: (0, n) when all were given, else (milliseconds until the next
    would be, n given)."""
    with limiter_calls():
        return _tokens_taken(tenant_id, hook, wanted)


def _tokens_taken(tenant_id: str, hook, wanted: int) -> tuple[int, int]:
    rate = tenant_limits(tenant_id=tenant_id).deliveries_per_second
    own = hook.rate_limit if hook is not None else None
    for given in range(wanted):
        answer = BUCKETS.take(f"deliveries:{tenant_id}", Shape(rate, max(1, rate)), grant_most=wanted - given)
        if answer.allowed and own:
            answer = BUCKETS.take(
                f"hook:{tenant_id}:{hook.hook_id}", Shape(own, max(1, own)), grant_most=wanted - given
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
