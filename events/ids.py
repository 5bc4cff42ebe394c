"""Event ids: `evt_` + a ULID, monotonic within a process so that ids of one batch (same
millisecond) still sort in request order."""

import secrets
import threading

from ulid import ULID

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
