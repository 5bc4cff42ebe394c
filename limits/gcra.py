"""A token bucket as GCRA (the generic cell rate algorithm) keeps it: one number, `tat`, the
theoretical arrival time (epoch µs). Each token taken moves `tat` on by the emission
interval (1/rate); the bucket is full when `tat` is in the past, and a token may be taken
while `tat` stays within `tau` (the whole burst, as time) of now. One number needs no
refill job and fits one conditional write (limits/grants.py).

A bucket of a high rate is split into shards, each its own item and partition key, each with
rate/S and burst/S: a shard's `tau` is the bucket's, its interval S times longer."""

import math
from dataclasses import dataclass
from functools import cached_property

US = 1_000_000
# Tokens per second one shard hands out at most: even at one store call per token, a shard's
# partition key takes at most this many writes a second, half of DynamoDB's 1,000 per key.
SHARD_RATE = 500
MAX_SHARDS = 64


@dataclass(frozen=True)
class Shape:
    """A bucket's rate (tokens a second) and burst (tokens at most)."""

    rate: float
    burst: int

    @cached_property
    def shards(self) -> int:
        """One per SHARD_RATE tokens a second, each holding at least 2 of the burst."""
        return max(1, min(math.ceil(self.rate / SHARD_RATE), self.burst // 2, MAX_SHARDS))

    @cached_property
    def interval(self) -> float:
        """µs one token of a shard stands for."""
        return self.shards * US / self.rate

    @cached_property
    def tau(self) -> float:
        """A shard's whole burst, in µs (the same for every shard)."""
        return self.burst * US / self.rate

    @property
    def shard_burst(self) -> float:
        return self.burst / self.shards

    def available(self, tat: int | None, now: int) -> float:
        """Tokens a shard holds at `now`, its `tat` being as given (None: never used)."""
        if tat is None or tat <= now:
            return self.shard_burst
        return max(0.0, (now + self.tau - tat) / self.interval)

    def ready_at(self, tat: int, tokens: float) -> int:
        """When a shard whose `tat` is as given holds `tokens` again."""
        return math.ceil(tat - self.tau + tokens * self.interval)

    def cost(self, tokens: int) -> int:
        """How far `tokens` tokens move a shard's `tat`, in µs."""
        return round(tokens * self.interval)
