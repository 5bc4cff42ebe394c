"""Lanes: one per hook, what the dispatcher needs to take deliveries fairly (LIMITS.md,
"Webhook fairness") with every process and function drawing on the same state.

A lane is one item of the Hooks table (pk = `lane#<tenant>#<hook>`, sk = `lane`):

- `ready_key`, in the sparse `ready-index` (partition `ready_shard`, a hash of tenant and
  hook over READY_SHARDS): the time from which the hook has a delivery due, so that the
  dispatcher reads the hooks with work, oldest first, and never a hook's backlog. A hook it
  served goes to the back (its key moves to now), which is the round robin between hooks.
- `version`, moved on by every notice that work arrived: the dispatcher takes a lane out of
  the index only on condition that no notice came since it looked (a notice that lands
  between its look and its write would otherwise be lost, and the delivery with it).
- `holders`: the attempts in flight to the hook (attempt id -> when its place is free at the
  latest), at most HOOK_MAX_IN_FLIGHT, taken by one conditional write; a place whose process
  died is dropped by the next taker once its time is up (limits/waiting.py's pattern).

Nothing here attempts anything: the dispatcher (hooks/dispatch.py) decides what to take."""

import zlib
from dataclasses import dataclass

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import size
from pynamodb.models import Model

from triggerapi import store, writes
from triggerapi.indexes import KeyedIndex
from triggerapi.store import ConditionFailed, StoreMeta, table_name

LANE_KEY = "lane"
READY_SHARDS = 4
# How many ready lanes one look at a shard reads.
READY_PAGE = 50


class Lane(Model):
    class Meta(StoreMeta):
        table_name = table_name("Hooks")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=LANE_KEY)
    tenant_id = UnicodeAttribute()
    hook_id = UnicodeAttribute()
    ready_shard = UnicodeAttribute(null=True)
    ready_key = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    holders = MapAttribute(default=dict)
    # Set while the lane waits for a place in flight (its ready_key then says when the first
    # place runs out at the latest): the attempt that gives a place back wakes it.
    set_aside = NumberAttribute(null=True)

    @staticmethod
    def key_for(tenant_id: str, hook_id: str) -> str:
        return f"lane#{tenant_id}#{hook_id}"


# The lanes with work, by the time they have had it, with the version they had then (what a
# turn's requeue is conditional on: read with the lane, no read of its own). Nothing else is
# projected: a lane's places in flight, taken and given back at every attempt, cost the
# index nothing.
READY_INDEX = KeyedIndex("ready-index", (Lane.ready_shard,), Lane.ready_key, projected=("version",))


def ready_shard_for(tenant_id: str, hook_id: str) -> str:
    return f"ready#{zlib.crc32(f'{tenant_id}#{hook_id}'.encode()) % READY_SHARDS}"


def ready_key_for(due_ms: int, tenant_id: str, hook_id: str) -> str:
    return f"{due_ms:013d}#{tenant_id}#{hook_id}"


@dataclass(frozen=True)
class Ready:
    """A lane found in the index: its hook, the key it was found under, and its version
    then (an index may lag the table: an older version only makes a requeue fail)."""

    tenant_id: str
    hook_id: str
    ready_key: str
    version: int


def lane_notify(*, tenant_id: str, hook_id: str, due_ms: int) -> int:
    """The hook has a delivery due from `due_ms`: the lane is ready from then at the latest
    (an earlier time already there stays), and its version moves on either way: the new
    version."""
    key = ready_key_for(due_ms, tenant_id, hook_id)
    identity = [*_made(tenant_id, hook_id), Lane.version.add(1)]
    lane = Lane.key_for(tenant_id, hook_id)
    try:
        item = writes.update(
            Lane,
            lane,
            LANE_KEY,
            actions=[*identity, Lane.ready_shard.set(ready_shard_for(tenant_id, hook_id)), Lane.ready_key.set(key)],
            condition=Lane.ready_key.does_not_exist() | (Lane.ready_key > key),
            token=None,
        )
    except ConditionFailed:
        item = writes.update(Lane, lane, LANE_KEY, actions=identity, condition=None, token=None)
    return int(item["version"]["N"])


def lanes_ready(*, shard: int, now_ms: int, limit: int = READY_PAGE) -> list[Ready]:
    """The lanes of one shard ready by `now_ms`, those ready longest first."""
    items, _ = store.call(
        lambda: READY_INDEX.query(
            Lane, (f"ready#{shard}",), limit=limit, range_key_condition=Lane.ready_key <= f"{now_ms:013d}~"
        ),
        what="Query ready lanes",
    )
    ready = []
    for item in items:
        _, tenant_id, hook_id = item["pk"]["S"].split("#", 2)
        ready.append(Ready(tenant_id, hook_id, item["ready_key"]["S"], int(item.get("version", {}).get("N", 0))))
    return ready


def lane_requeue(*, tenant_id: str, hook_id: str, version: int, next_due_ms: int | None) -> bool:
    """After the dispatcher looked at the lane (at `version`): ready again from `next_due_ms`
    (the back of the line, for a hook with more due now; its next retry's time otherwise), or
    out of the index when it has nothing pending. False, and nothing changed, if work arrived
    since (the dispatcher looks again)."""
    if next_due_ms is None:
        actions = [Lane.ready_shard.remove(), Lane.ready_key.remove()]
    else:
        actions = [
            Lane.ready_shard.set(ready_shard_for(tenant_id, hook_id)),
            Lane.ready_key.set(ready_key_for(next_due_ms, tenant_id, hook_id)),
        ]
    try:
        _update(tenant_id, hook_id, actions, Lane.version == version)
    except ConditionFailed:
        return False
    return True


@dataclass(frozen=True)
class Places:
    """The places taken (the first of the ids asked for), and when the first place held is
    free at the latest (for a lane set aside: when none was)."""

    taken: list[str]
    first_free_ms: int


def in_flight_take(
    *, tenant_id: str, hook_id: str, attempt_ids: list[str], until_ms: int, cap: int, now_ms: int
) -> Places:
    """Places for attempts to the hook, until `until_ms` at the latest: as many of
    `attempt_ids` as fit under `cap`, none when every place is taken. One write conditional
    on the places held, so two dispatchers never take more than the cap between them;
    places whose time is up are dropped, then it tries again."""
    wanted = list(attempt_ids)
    first_free = until_ms
    for _ in range(3):
        if not wanted:
            return Places([], first_free)
        try:
            _update(
                tenant_id,
                hook_id,
                [Lane.holders[attempt_id].set(until_ms) for attempt_id in wanted],
                # exists() first: moto fails a size() of a missing attribute, which DynamoDB
                # takes as false.
                Lane.holders.exists() & (size(Lane.holders) <= cap - len(wanted)),
            )
            return Places(wanted, first_free)
        except ConditionFailed as exc:
            found = exc.item
        if found is None or "holders" not in found:
            _update(tenant_id, hook_id, _made(tenant_id, hook_id), None)  # a lane made before any notice
            continue
        holders = {holder: int(until["N"]) for holder, until in found["holders"]["M"].items()}
        if all(attempt_id in holders for attempt_id in wanted):
            return Places(wanted, first_free)  # an earlier try of this write was applied, its answer lost
        expired = [holder for holder, until in holders.items() if until <= now_ms]
        first_free = min((until for until in holders.values() if until > now_ms), default=until_ms)
        if expired:
            _update(tenant_id, hook_id, [Lane.holders[holder].remove() for holder in expired], None)
        wanted = wanted[: max(0, cap - (len(holders) - len(expired)))]
    return Places([], first_free)


def lane_set_aside(*, tenant_id: str, hook_id: str, version: int, until_ms: int) -> bool:
    """Every place in flight is taken: the lane leaves the line until one is given back (its
    holder wakes it) or, its holder dead, runs out at `until_ms`. False if work arrived since
    the dispatcher looked (it stays ready)."""
    try:
        _update(
            tenant_id,
            hook_id,
            [
                Lane.set_aside.set(1),
                Lane.ready_shard.set(ready_shard_for(tenant_id, hook_id)),
                Lane.ready_key.set(ready_key_for(until_ms, tenant_id, hook_id)),
            ],
            Lane.version == version,
        )
    except ConditionFailed:
        return False
    return True


def in_flight_release(*, tenant_id: str, hook_id: str, attempt_ids: list[str], now_ms: int) -> None:
    """The attempts ended (or never started): their places are free (removing one twice
    changes nothing), and a lane set aside for want of one is ready again."""
    item = writes.update(
        Lane,
        Lane.key_for(tenant_id, hook_id),
        LANE_KEY,
        actions=[Lane.holders[attempt_id].remove() for attempt_id in attempt_ids],
        condition=None,
        token=None,
    )
    if item and "set_aside" in item:
        try:
            _update(
                tenant_id,
                hook_id,
                [
                    Lane.set_aside.remove(),
                    Lane.ready_shard.set(ready_shard_for(tenant_id, hook_id)),
                    Lane.ready_key.set(ready_key_for(now_ms, tenant_id, hook_id)),
                    Lane.version.add(1),
                ],
                Lane.set_aside.exists(),
            )
        except ConditionFailed:
            pass  # another holder woke it


def _made(tenant_id: str, hook_id: str) -> list:
    """What makes an item a lane: its hook, and a map of places (kept if it has one)."""
    return [Lane.tenant_id.set(tenant_id), Lane.hook_id.set(hook_id), Lane.holders.set(Lane.holders | {})]


def _update(tenant_id: str, hook_id: str, actions: list, condition) -> None:
    writes.update(
        Lane,
        Lane.key_for(tenant_id, hook_id),
        LANE_KEY,
        actions=actions,
        condition=condition,
        token=None,
        return_item=False,
    )
