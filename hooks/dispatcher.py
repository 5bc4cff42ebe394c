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

from django.conf import settings

from activity import deliveries
from hooks import lanes
from hooks.dispatch import attempt, claim_due, claim_new, fits
from hooks.fanout import LOGGER
from hooks.lanes import READY_SHARDS, Ready
from hooks.lifecycle import claim_ms
from hooks.queues import Due, Known, hook_queue, hook_read, tokens
from triggerapi import writes
from triggerapi.store import StoreUnavailable, now_ms

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
        # Lanes a turn of this process is serving now, and those offered work since (served
        # by another turn as soon as theirs ends); what this process's fan-out made.
        self._serving: set = set()
        self._again: dict = {}
        self._known = Known()
        self._offers: set = set()
        self._lock = threading.Lock()
        # Hooks as read at most HOOK_CACHE_SECONDS ago: (tenant, hook) -> (hook or None, when).
        self._hooks: dict = {}
        # Attempts made (a claim lost to another process, or to a deleted or disabled hook,
        # makes none).
        self.attempted = 0
        # A turn since the last round began found every place of its hook taken.
        self._short_of_places = False

    def round(self, *, deadline_ms: int | None = None) -> int:
        """One look at every ready lane, those ready longest first; the deliveries it handed
        to the pool (each is claimed there, then attempted)."""
        now = now_ms()
        found = self._turns.map(lambda shard: lanes.lanes_ready(shard=shard, now_ms=now), range(READY_SHARDS))
        ready = sorted((lane for shard in found for lane in shard), key=lambda lane: lane.ready_key)
        return sum(self._turns.map(lambda lane: self._serve_logged(lane, deadline_ms), ready))

    def offer(self, hook, new: list[tuple], version: int) -> None:
        """Deliveries (with their events' bodies) that fan-out in this process just created
        for `hook`, whose lane it marked ready at `version`: the lane gets a turn now rather
        than at the next round, and the offered deliveries it takes are claimed without being
        read back, and attempted without reading their events. Their hook's queue still
        decides the order, and places, tokens and claims are the store's as in any turn.
        Not on Lambda, where fan-out and dispatch are two functions."""
        lane = (hook.tenant_id, hook.hook_id)
        self._known.add([Due(d.pk, d.event_id, d.due_key, new=d, body=body) for d, body in new])
        with self._lock:
            if lane in self._serving:
                self._again[lane] = (hook, max(version, self._again.get(lane, (hook, version))[1]))
                return
            self._serving.add(lane)
        self._submit_offer(hook, version)

    def _submit_offer(self, hook, version: int) -> None:
        ready = lanes.Ready(hook.tenant_id, hook.hook_id, "", version)
        future = self._turns.submit(contextvars.copy_context().run, self._serve_held, ready, None, hook)
        with self._lock:
            self._offers.add(future)
        future.add_done_callback(self._offer_done)

    def _offer_done(self, future) -> None:
        with self._lock:
            self._offers.discard(future)
        if future.exception() is not None:  # a bug: the lane stays ready, a round serves it
            log.error("offered turn failed", exc_info=future.exception())

    def run(self, *, deadline_ms: int | None = None, stop: threading.Event | None = None, idle_s: float = 0.2) -> int:
        """Rounds until `stop` is set, or the deadline leaves no room for another attempt;
        then waits for the attempts it started. The attempts made."""
        stop = stop or threading.Event()
        while not stop.is_set() and self._has_room(deadline_ms):
            try:
                made = self.round(deadline_ms=deadline_ms)
            except StoreUnavailable as exc:
                log.warning("ready lanes not read", extra={"error": str(exc)})
                made = 0
            if not made:
                stop.wait(idle_s)
            deliveries.flush_due()
        self.wait()
        return self.attempted

    def run_until_idle(self, *, deadline_ms: int | None = None) -> int:
        """Rounds while they start attempts (and the deadline leaves room), then waits for
        them: what is due now, made (`run_deliveries --once`, `run_due`). A round that starts
        nothing because a hook's places were all taken, while this process's own attempts are
        running (a hook's backlog beyond its HOOK_MAX_IN_FLIGHT), waits for them to end, then
        looks again. The attempts made."""
        while self._has_room(deadline_ms):
            self._short_of_places = False
            if self.round(deadline_ms=deadline_ms):
                continue
            with self._lock:
                running = bool(self._running or self._offers)
            if not (running and self._short_of_places):
                break
            self.wait()  # their places come back, their lanes are woken
        self.wait()
        return self.attempted

    def wait(self) -> None:
        """Until the offers taken and the attempts started have ended (and their counts are
        written)."""
        while True:
            with self._lock:
                offers = list(self._offers)
            if not offers:
                break
            for future in offers:
                future.exception()
        with self._lock:
            running = list(self._running)
        for future in running:
            future.exception()
        deliveries.flush()

    def _has_room(self, deadline_ms: int | None) -> bool:
        """An attempt started now ends before the deadline (a function that must stop)."""
        return fits(deadline_ms)

    def _serve_logged(self, ready: Ready, deadline_ms: int | None) -> int:
        """A round's turn of a lane, unless this process is serving it already."""
        lane = (ready.tenant_id, ready.hook_id)
        with self._lock:
            if lane in self._serving:
                return 0  # what that turn does not take keeps the lane ready
            self._serving.add(lane)
        return self._serve_held(ready, deadline_ms)

    def _serve_held(self, ready: Ready, deadline_ms: int | None, offered=None) -> int:
        """A turn of a lane this process holds (in `_serving`); then the turn for what was
        offered meanwhile, or the lane let go."""
        lane = (ready.tenant_id, ready.hook_id)
        try:
            return self._serve(ready, deadline_ms, offered)
        except StoreUnavailable as exc:
            log.warning("lane not served", extra={"hook_id": ready.hook_id, "error": str(exc)})
            return 0
        finally:
            with self._lock:
                again = self._again.pop(lane, None)
                if again is None:
                    self._serving.discard(lane)
            if again is not None:
                self._submit_offer(*again)

    def _serve(self, ready: Ready, deadline_ms: int | None, offered=None) -> int:
        """One turn of a lane: up to TURN_MOST of its due deliveries handed to the pool, and
        the lane back in line (at the back if it has more due, else when it next has).
        `offered`: the hook, whose fan-out in this process just made deliveries (`offer`)."""
        tenant_id, hook_id = ready.tenant_id, ready.hook_id
        version = ready.version
        now = now_ms()
        hook = offered
        queue = [self._known.match(entry) for entry in hook_queue(tenant_id, hook_id, TURN_MOST + 1)]
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
                self._short_of_places = True
                self._give_back(slots)
                lanes.lane_set_aside(
                    tenant_id=tenant_id, hook_id=hook_id, version=version, until_ms=taken.first_free_ms
                )
                return 0
        else:
            places = []
        hook = hook or self._hook(tenant_id, hook_id)
        refused, usable = tokens(tenant_id, hook, len(places))
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
            found = self._hooks[key] = (hook_read(tenant_id, hook_id), time.monotonic())
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

    def _start(self, entry: Due, place: str, hooks: dict) -> None:
        future = self._pool.submit(contextvars.copy_context().run, self._claim_and_attempt, entry, place, hooks)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        with self._lock:
            self._running.discard(future)
        self._free.release()

    def _claim_and_attempt(self, entry: Due, place: str, hooks: dict) -> None:
        tenant_id, hook_id = entry.pk.removeprefix("dlv#").rsplit("#", 1)
        try:
            hook = hooks.get((tenant_id, hook_id))
            if entry.new is not None and hook is not None:
                claim = claim_new(hook, entry.new, entry.body)
            else:
                claim = claim_due(entry.pk, entry.event_id, entry.due_key, hooks)
            if claim is not None:
                with self._lock:
                    self.attempted += 1
                attempt(claim)  # outcomes.outcome_record wakes the lane for a retry
        except Exception as exc:  # the claim runs out and the delivery is due again
            log.warning("delivery attempt failed", extra={"hook_id": hook_id, "error": f"{type(exc).__name__}: {exc}"})
        finally:
            self._known.forget(entry)
            try:
                lanes.in_flight_release(tenant_id=tenant_id, hook_id=hook_id, attempt_ids=[place], now_ms=now_ms())
            except StoreUnavailable as exc:
                log.warning(
                    "in-flight place not given back (it runs out)", extra={"hook_id": hook_id, "error": str(exc)}
                )
