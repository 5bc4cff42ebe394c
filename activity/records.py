"""What one stream record of the events table changes in what a tenant sees: the history
entries it writes (the first is its mark: activity.stream writes it only if absent, which is
how a record handed over twice is counted once), the entry it drops (the middle one of a
lease's extensions), and the counts it moves.

Every transition writes `last_op` and `last_op_at` (events/lifecycle.py): a record is read
for what it says it was, never inferred from the images' difference; only the statuses'
move (old image to new) is read from both, for the counts of events in each status."""

import json
from collections import Counter
from dataclasses import dataclass, field

from activity.models import DELIVERED, INGESTED, history_pk, history_sk
from activity.models import FAILED as FAILED_METRIC
from events import lifecycle
from events.ids import EVENT_PREFIX
from events.models import FAILED, UNDELIVERED, Event

# Statuses whose events are counted (OBSERVE.md: `undelivered`, `failed`).
COUNTED = (UNDELIVERED, FAILED)
# A REMOVE's mark, kept this long (a stream holds a record 24 h): its counts once only.
REMOVED_MARK_MS = 2 * 86_400_000
REMOVED = "~removed"


@dataclass
class Change:
    tenant_id: str
    event_id: str
    # raw items: the first is the record's mark
    entries: list[dict]
    drop: list[tuple[str, str]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    # bucket metric -> when it happened (ms)
    happened: list[tuple[str, int]] = field(default_factory=list)
    # after it is applied, the event's history goes (it was removed)
    forget: bool = False


def entry(
    tenant_id: str, event_id: str, at: int, what: str, expires_at: int | None = None, *, order: str = "", **details
) -> dict:
    """A history entry; `order` places it among the event's transitions of one millisecond."""
    item = {
        "pk": {"S": history_pk(tenant_id, event_id)},
        "sk": {"S": history_sk(at, order, what) if what != REMOVED else REMOVED},
        "what": {"S": what},
        "at": {"N": str(at)},
        "d": {"S": json.dumps(details, separators=(",", ":"))},
    }
    if expires_at is not None:
        item["expires_at"] = {"N": str(expires_at // 1000)}
    return item


def _image(record: dict, which: str) -> Event | None:
    image = record.get("dynamodb", {}).get(which)
    return Event.from_raw_data(image) if image else None


def event_key(record: dict) -> tuple[str, str] | None:
    """(tenant, event id) of a record of an event; None for another item (an idempotency
    record). Lambda's records name the keys; a test's may hold the image alone."""
    data = record.get("dynamodb", {})
    keys = data.get("Keys") or data.get("NewImage") or data.get("OldImage") or {}
    sk = keys.get("sk", {}).get("S", "")
    return (keys["tenant_id"]["S"], sk) if sk.startswith(EVENT_PREFIX) and "tenant_id" in keys else None


def record_time(record: dict) -> int:
    """When the store made the record (Lambda's shape: epoch seconds)."""
    return int(float(record.get("dynamodb", {}).get("ApproximateCreationDateTime") or 0) * 1000)


def _status_move(old: Event | None, new: Event | None) -> Counter:
    counts = Counter()
    if old is not None and old.status in COUNTED:
        counts[old.status] -= 1
    if new is not None and new.status in COUNTED:
        counts[new.status] += 1
    return counts


def change_of(record: dict, *, pending: Counter | None = None) -> Change | None:
    """None for a record that changes nothing seen (not an event; a write that was no
    transition, such as putting an old event in the indexes by type). `pending`: the
    deliveries fan-out owes for an inserted event, per hook."""
    if event_key(record) is None:
        return None
    name = record.get("eventName")
    old, new = _image(record, "OldImage"), _image(record, "NewImage")
    if name == "REMOVE":
        return _removed(record, old)
    if new is None:
        return None
    if name == "INSERT":
        at = new.last_op_at or new.created_at
        change = Change(
            new.tenant_id,
            new.event_id,
            [entry(new.tenant_id, new.event_id, at, lifecycle.INGESTED, order=_order(0))],
        )
        change.happened.append((INGESTED, new.created_at))
        change.counts.update({f"p#{hook}": n for hook, n in (pending or {}).items()})
    elif old is not None and (old.last_op, old.last_op_at) == (new.last_op, new.last_op_at):
        return None
    else:
        change = _transition(record, old, new)
    if _has_old_images(record):
        change.counts.update(_status_move(old, new))
    return change


def _has_old_images(record: dict) -> bool:
    """Records of a stream that shows no old image (NEW_IMAGE, before its switch: docs/
    DEPLOY.md) cannot say from which status an event moved: they move no status count."""
    return record.get("dynamodb", {}).get("StreamViewType", "NEW_AND_OLD_IMAGES") != "NEW_IMAGE"


def _order(ops: int | None, *, before: bool = False) -> str:
    """The transition's number among the event's (`ops`, which every transition adds one
    to: events/lifecycle.py), so entries of one millisecond keep their order and two
    transitions never share a key; `before` places an entry just before it."""
    return f"{(ops or 0) - before:06d}" + ("z" if before else "")


def _transition(record: dict, old: Event | None, new: Event) -> Change:
    op = new.last_op or "changed"
    at = new.last_op_at or record_time(record)
    tenant_id, event_id = new.tenant_id, new.event_id
    details: dict = {}
    earlier: list[dict] = []
    drop: list[tuple[str, str]] = []
    if op == lifecycle.CLAIMED:
        details = {"lease_id": new.lease_id, "attempt": new.attempts}
        if old is not None and old.lease_id and (old.lease_expires_at or 0) <= at:
            expired = old.lease_expires_at
            order = _order(new.ops, before=True)
            earlier.append(entry(tenant_id, event_id, expired, "lease_expired", order=order, lease_id=old.lease_id))
    elif op == lifecycle.EXTENDED:
        details = {"lease_id": new.lease_id, "lease_expires_at": new.lease_expires_at}
        # A lease's first and last extensions are kept: the last one before this goes.
        if (new.extensions or 0) >= 3 and old is not None and old.last_op == lifecycle.EXTENDED:
            drop.append(
                (history_pk(tenant_id, event_id), history_sk(old.last_op_at, _order(old.ops), lifecycle.EXTENDED))
            )
    elif op == lifecycle.RELEASED and old is not None:
        details = {"lease_id": old.lease_id}
    mark = entry(tenant_id, event_id, at, op, order=_order(new.ops), **details)
    change = Change(tenant_id, event_id, [mark, *earlier], drop)
    if op == lifecycle.ACKED:
        change.happened.append((DELIVERED, at))
    elif op == lifecycle.FAILED_OP:
        change.happened.append((FAILED_METRIC, at))
    return change


def _removed(record: dict, old: Event | None) -> Change | None:
    tenant_id, event_id = event_key(record)
    at = record_time(record)
    mark = entry(tenant_id, event_id, at, REMOVED, expires_at=at + REMOVED_MARK_MS)
    change = Change(tenant_id, event_id, [mark], forget=True)
    if _has_old_images(record):
        change.counts.update(_status_move(old, None))
    return change
