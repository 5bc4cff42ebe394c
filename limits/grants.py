"""Taking tokens from one shard of a shared bucket: one conditional UpdateItem of its `tat`,
two or three when it guessed the shard's state wrong or the shard holds fewer tokens than
asked (then it takes what is there: a partial grant).

- The shard is busy (`tat` >= now): `SET tat = tat + cost` if `tat` stays within `tau`.
- The shard is idle (`tat` in the past, or no item): `SET tat = now + cost`.

A failed condition sends the item back (ReturnValuesOnConditionCheckFailure), which says
which case holds and how many tokens are there. Each call is one attempt with the limiter's
own short timeouts (Bucket's Meta), and counts as the limiter's, apart from the request's."""

import math
from dataclasses import dataclass

from limits.gcra import Shape
from limits.models import BUCKET_KEY, Bucket
from triggerapi import writes
from triggerapi.context import limiter_calls
from triggerapi.store import ConditionFailed

# Busy, then idle (or the other way round), then a partial grant: no more writes than that.
MOST_WRITES = 3


@dataclass(frozen=True)
class Grant:
    """`tokens` taken (0: the shard had none), and the shard's `tat` as the store holds it
    now (None: it was never used)."""

    tokens: int
    tat: int | None


def _tat(item: dict | None) -> int | None:
    value = (item or {}).get("tat", {}).get("N")
    return None if value is None else int(value)


def _write(key: str, *, cost: int, now: int, shape: Shape, idle: bool) -> int | None:
    if idle:
        actions = [Bucket.tat.set(now + cost)]
        condition = Bucket.tat.does_not_exist() | (Bucket.tat < now)
    else:
        actions = [Bucket.tat.set(Bucket.tat + cost)]
        condition = Bucket.tat.between(now, math.floor(now + shape.tau) - cost)
    with limiter_calls():
        item = writes.update(Bucket, key, BUCKET_KEY, actions=actions, condition=condition, token=None, attempts=1)
    return _tat(item)


def grant_take(*, key: str, shape: Shape, tokens: int, now: int, idle: bool) -> Grant:
    """Takes up to `tokens` from the shard under `key`; `idle` is the caller's guess of its
    state. Raises StoreUnavailable when the store did not answer."""
    tat = None
    for _ in range(MOST_WRITES):
        try:
            return Grant(tokens, _write(key, cost=shape.cost(tokens), now=now, shape=shape, idle=idle))
        except ConditionFailed as failed:
            tat = _tat(failed.item)
        idle = tat is None or tat < now
        if not idle:
            tokens = min(tokens, math.floor(shape.available(tat, now)))
            if tokens < 1:
                return Grant(0, tat)
    return Grant(0, tat)
