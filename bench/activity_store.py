"""Counting what the activity table is asked to write (bench/activity_writes.py): the store
calls on it, the items of each TransactWriteItems, their sizes as DynamoDB bills them, and
the write units they cost: a transactional write 2 WCU per item per KB, a standard write 1
WCU per KB, an update billed on the larger of the item before and after (read once the
phase is done: the largest it has been)."""

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from bench.typed import store_events

KB = 1024


def item_size(item: dict) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value (a number about
    one byte per two significant digits, plus one)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict) -> int:
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(x) for k, x in v.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    return 1  # BOOL, NULL


@dataclass
class Written:
    """What one phase wrote to the activity table."""

    calls: int = 0  # store calls on the activity table
    all_calls: int = 0  # every store call of the phase (fan-out's included)
    transactions: list[list[tuple[str, tuple, int | None]]] = field(default_factory=list)
    standard: list[tuple[str, tuple]] = field(default_factory=list)
    at: list[float] = field(default_factory=list)  # when each transaction was sent

    def items(self) -> int:
        return sum(len(t) for t in self.transactions)

    def keys(self) -> set[tuple]:
        return {key for t in self.transactions for kind, key, _ in t if kind != "Put"} | {k for _, k in self.standard}


def _key(body: dict) -> tuple:
    item = body.get("Key") or body.get("Item")
    return item["pk"]["S"], item["sk"]["S"]


@contextmanager
def recorded():
    """A `Written` of the activity table's calls made inside."""
    from activity.models import Activity

    table = Activity.Meta.table_name
    written = Written()
    lock = threading.Lock()

    def before(model, params, **kwargs):
        tables = {b[next(iter(b))].get("TableName") for b in params.get("TransactItems", [])}
        tables |= set(params.get("RequestItems", {})) | {params.get("TableName")}
        with lock:
            written.all_calls += 1
            if table not in tables:
                return
            written.calls += 1
            if model.name == "TransactWriteItems":
                parts = []
                for body in params["TransactItems"]:
                    kind = next(iter(body))
                    put = body[kind].get("Item")
                    parts.append((kind, _key(body[kind]), item_size(put) if put else None))
                written.transactions.append(parts)
                written.at.append(time.monotonic())
            elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
                written.standard.append((model.name, _key(params)))

    with store_events({"before-parameter-build.dynamodb": before}):
        yield written


def sizes_of(keys: set[tuple]) -> dict[tuple, int]:
    """The items' sizes now (a deleted one: 0), read outside any recording."""
    from activity.models import Activity
    from triggerapi.store import client

    db = client(Activity)
    found = {}
    for pk, sk in keys:
        item = db.get_item(TableName=Activity.Meta.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
        found[(pk, sk)] = item_size(item) if item else 0
    return found


def wcu(written: Written, sizes: dict[tuple, int]) -> int:
    units = 0
    for transaction in written.transactions:
        for _, key, size in transaction:
            units += 2 * max(1, math.ceil((size if size is not None else sizes.get(key, 0)) / KB))
    units += sum(max(1, math.ceil(sizes.get(key, 0) / KB)) for _, key in written.standard)
    return units


def bucket_anatomy(key: tuple, *, hooks: int) -> tuple[int, float, int]:
    """(size, bytes of the per-hook attributes a hook, latency bins) of a bucket."""
    from activity.models import Activity
    from triggerapi.store import client

    item = client(Activity).get_item(TableName=Activity.Meta.table_name, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
    item = item["Item"]
    per_hook = sum(len(n) + _value_size(v) for n, v in item.items() if "#" in n) / hooks
    return item_size(item), per_hook, sum(1 for n in item if n.startswith("l#"))
