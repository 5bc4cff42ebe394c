"""Latencies kept as a histogram of bins a quarter of a doubling wide (about 19 % apart), so
that a minute's deliveries to a hook take one counter per bin used, and percentiles of an
hour merge sixty minutes' bins: a percentile is then within 10 % of the true one."""

import math
from collections import Counter

PER_DOUBLING = 4


def bin_of(ms: int) -> int:
    return int(PER_DOUBLING * math.log2(max(ms, 0) + 1))


def middle(b: int) -> int:
    """A bin's representative latency: the geometric middle of its bounds."""
    return round(2 ** ((b + 0.5) / PER_DOUBLING) - 1)


def percentile(bins: Counter, q: float) -> int | None:
    """The latency below which `q` of the counted ones are; None with none counted."""
    total = sum(bins.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for b in sorted(bins):
        seen += bins[b]
        if seen >= rank:
            return middle(b)
    return middle(max(bins))
