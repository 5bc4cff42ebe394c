"""Event ids: `evt_` + a ULID, monotonic within a process so that ids of one batch (same
millisecond) still sort in request order."""

import secrets
import threading

from ulid import ULID

from triggerapi import thaw
from triggerapi.store import now_ms

EVENT_PREFIX = "evt_"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = 0


def new_event_ids(count: int = 1) -> list[str]:
    global _last
    with _lock:
        first = max((now_ms() << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS), _last + 1)
        _last = first + count - 1
    return [EVENT_PREFIX + str(ULID.from_int(first + i)) for i in range(count)]


@thaw.after_restore
def sequence_restart() -> None:
    """Each instance restored from a SnapStart snapshot starts its own sequence. With the
    snapshot's `_last` every copy whose clock is behind the snapshot's would hand out
    `_last + 1`, the same ids; from 0, an id is the clock and 80 bits from the kernel."""
    global _last
    with _lock:
        _last = 0


def created_at_of(event_id: str) -> int:
    return ULID.from_str(event_id[len(EVENT_PREFIX) :]).milliseconds


def is_event_id(value: str) -> bool:
    """Only canonical ids reach the store; anything else is simply not found."""
    if not value.startswith(EVENT_PREFIX) or len(value) != len(EVENT_PREFIX) + 26:
        return False
    try:
        return str(ULID.from_str(value[len(EVENT_PREFIX) :])) == value[len(EVENT_PREFIX) :]
    except ValueError:
        return False


def id_range(since_ms: int, until_ms: int) -> tuple[str, str] | None:
    """The first and last possible ids of events created in [since, until), or None if the
    range is empty: ids sort by creation, so a key range on them is a time range."""
    if until_ms <= since_ms:
        return None
    low = ULID.from_int(since_ms << _RANDOM_BITS)
    high = ULID.from_int((until_ms << _RANDOM_BITS) - 1)
    return EVENT_PREFIX + str(low), EVENT_PREFIX + str(high)
