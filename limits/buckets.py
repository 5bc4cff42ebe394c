"""Token buckets shared by every process and Lambda instance, at a fraction of a store call
per token. Nothing here knows HTTP: the request rate (limits/requests.py) is one user.

A bucket lives in the store (limits/gcra.py: one `tat` per shard). A process takes tokens in
*grants* of several at once, one conditional write each (limits/grants.py), and spends them
with no store call. So every process draws on the one bucket (a bucket per process would let
N processes take N times the rate), and the store sees about one write per grant:

- Size: about GRANT_SECONDS of this process's own demand for the bucket (what it was asked
  for in the last second, refused or not), at most rate/5 (at least 10) and half a shard's
  burst; one token when it has seen nothing yet. A grant sized to what this process uses
  costs little when its demand is high and wastes little when it is low.
- Lease: tokens still unspent after twice the time the grant should last (1 to 5 s) are
  dropped, so a holder that went quiet cannot spend them in a burst later.
- Refusal: when no shard can hold a grant's worth (as last seen: a shard's `tat` only moves
  on, so that is the most it holds) or the store says it has none, this process refuses
  without asking the store until a shard should hold a grant's worth; `retry_after` says
  when that is. A refused request costs no store call.
- Shards: a grant is taken from the shard this process last saw fullest (unseen shards
  count as full), trying a second one when the first is empty.
- Store faults: a grant that fails (store unavailable, or slower than the Bucket model's
  timeouts) lets the request through and the bucket skips the store for FAIL_OPEN_SECONDS,
  logged: the limiter must never be the reason a request fails or waits long.
"""

import logging
import math
import random
import threading
import time
from dataclasses import dataclass

from limits.gcra import US, Shape
from limits.grants import grant_take
from limits.models import Bucket
from triggerapi import thaw
from triggerapi.store import StoreUnavailable

logger = logging.getLogger(__name__)

GRANT_SECONDS = 1.0
LEASE_SECONDS = (1.0, 5.0)
FAIL_OPEN_SECONDS = 1.0
SHARDS_TRIED = 2
# Buckets this process keeps a view of; past it, the idle ones are forgotten.
MOST_BUCKETS = 10_000


def now_us() -> int:
    return time.time_ns() // 1_000


@dataclass(frozen=True)
class Answer:
    """A token taken or not; `remaining` (tokens left, as this process sees them), `reset`
    (seconds until the bucket is full) and `retry_after` (seconds until this process would
    take one again) are for the caller to tell its client."""

    allowed: bool
    remaining: int
    reset: float
    retry_after: float
    shape: Shape


class _Demand:
    """Tokens asked for in this process: the larger of the last whole second and this one."""

    def __init__(self):
        self.started, self.current, self.previous = 0, 0, 0

    def add(self, now: int) -> None:
        if not 0 <= now - self.started < US:
            self.previous = self.current if now - self.started < 2 * US else 0
            self.started, self.current = now, 0
        self.current += 1

    def per_second(self) -> int:
        return max(self.previous, self.current)


class _Local:
    """This process's view of one bucket: the tokens it holds, each shard's `tat` as last
    seen, and until when it refuses. Its lock is held across a grant's store call, so the
    threads waiting for the bucket spend the grant instead of each asking for one."""

    def __init__(self, name: str, shape: Shape, grant_most: int | None = None):
        self.name, self.shape, self.grant_most = name, shape, grant_most
        self.lock = threading.Lock()
        self.demand = _Demand()
        self.seen: list[int | None] = [None] * shape.shards
        self.tokens = 0
        self.granted_at = self.expires = 0
        self.refused_at = self.refused_until = 0
        self.failing_until = 0

    def active(self, now: int) -> bool:
        return now < max(self.expires, self.refused_until, self.failing_until)

    def take(self, now: int) -> Answer:
        self.demand.add(now)
        if self.tokens and self.granted_at <= now < self.expires:
            self.tokens -= 1
            return self._answer(now, allowed=True)
        self.tokens = 0
        if self.refused_at <= now < self.refused_until:
            return self._answer(now, allowed=False)
        if now < self.failing_until:
            return self._answer(now, allowed=True)
        wanted = self._grant_size()
        if self._short(now, wanted):
            self.refused_at, self.refused_until = now, self._ready(now, wanted)
            return self._answer(now, allowed=False)
        try:
            got = self._grant(now, wanted)
        except StoreUnavailable as exc:
            logger.warning(
                "Rate limiter unavailable, letting requests through", extra={"bucket": self.name, "error": str(exc)}
            )
            self.failing_until = now + round(FAIL_OPEN_SECONDS * US)
            return self._answer(now, allowed=True)
        if got:
            self.tokens, self.granted_at, self.expires = got - 1, now, now + self._lease(got)
            return self._answer(now, allowed=True)
        self.refused_at, self.refused_until = now, self._ready(now, wanted)
        return self._answer(now, allowed=False)

    def _grant_size(self) -> int:
        demanded = math.ceil(self.demand.per_second() * GRANT_SECONDS)
        most = min(max(10, self.shape.rate / 5), self.shape.shard_burst / 2, self.grant_most or math.inf)
        return max(1, min(demanded, math.floor(most)))

    def _lease(self, tokens: int) -> int:
        low, high = LEASE_SECONDS
        return round(min(high, max(low, 2 * tokens / max(1, self.demand.per_second()))) * US)

    def _short(self, now: int, wanted: int) -> bool:
        """True when every shard, as last seen, holds fewer than `wanted` tokens by now: a
        shard's `tat` only ever moves on, so what was seen is the most it can hold, and
        asking the store would only cost a write. A `tat` seen more than a burst ahead of
        now cannot be (this clock went back, or the item was dropped): the store is asked."""
        return all(
            tat is not None and tat <= now + self.shape.tau and self.shape.available(tat, now) < wanted
            for tat in self.seen
        )

    def _grant(self, now: int, wanted: int) -> int:
        fullest = sorted(
            range(self.shape.shards), key=lambda s: (-self.shape.available(self.seen[s], now), random.random())
        )
        for shard in fullest[:SHARDS_TRIED]:
            seen = self.seen[shard]
            key = Bucket.key_for(self.name, shard)
            grant = grant_take(key=key, shape=self.shape, tokens=wanted, now=now, idle=seen is None or seen < now)
            self.seen[shard] = grant.tat
            if grant.tokens:
                return grant.tokens
        return 0

    def _ready(self, now: int, wanted: int) -> int:
        """When a shard should hold `wanted` tokens again; never later than a whole burst
        from now (another process's clock may run ahead of this one's)."""
        if any(tat is None for tat in self.seen):
            return now
        soonest = min(self.shape.ready_at(tat, wanted) for tat in self.seen)
        return max(now + 1, min(soonest, now + math.ceil(self.shape.tau)))

    def _answer(self, now: int, *, allowed: bool) -> Answer:
        # Shape.available for each shard, written out in one pass: a bucket of a high rate
        # has up to 64 shards, and every request takes this way.
        shape = self.shape
        full, tau, interval = shape.shard_burst, shape.tau, shape.interval
        shared, busiest = 0.0, now
        for tat in self.seen:
            if tat is None or tat <= now:
                shared += full
            else:
                shared += max(0.0, (now + tau - tat) / interval)
                busiest = max(busiest, tat)
        remaining = math.floor(min(shape.burst, self.tokens + shared)) if allowed else 0
        retry_after = 0.0 if allowed else max(0, self.refused_until - now) / US
        return Answer(allowed, remaining, max(0, busiest - now) / US, retry_after, self.shape)


class SharedBuckets:
    """Every bucket this process draws on, by name (`requests:<tenant>`, ...)."""

    def __init__(self):
        self._buckets: dict[str, _Local] = {}
        self._lock = threading.Lock()

    def take(self, name: str, shape: Shape, *, grant_most: int | None = None) -> Answer:
        """One token of the bucket `name`, whose rate and burst are `shape` (a changed shape
        starts this process's view afresh: its grants were sized for the old one).
        `grant_most` caps a grant: tokens granted ahead are spent late, so a bucket whose
        every second must hold (a pace of webhook attempts) takes no more than it is about
        to spend."""
        now = now_us()
        with self._lock:
            local = self._buckets.get(name)
            if local is None or local.shape != shape:
                if len(self._buckets) >= MOST_BUCKETS:
                    self._buckets = {n: b for n, b in self._buckets.items() if b.active(now)}
                local = self._buckets[name] = _Local(name, shape, grant_most)
            local.grant_most = grant_most
        with local.lock:
            return local.take(now_us())

    def forget(self) -> None:
        """Drops this process's view of every bucket (the store's state stays)."""
        with self._lock:
            self._buckets.clear()


# The process's one view of the buckets it draws on. Forgotten in each instance restored from
# a SnapStart snapshot (triggerapi/thaw.py): every copy would spend the tokens granted before
# it, and the bucket would give out their number once per copy.
BUCKETS = SharedBuckets()
thaw.after_restore(BUCKETS.forget)
