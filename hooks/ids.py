"""Hook ids: `hook_` + a ULID. Delivery ids: `dlv_` + the event's ULID + the hook's tag.

A delivery's id is computed from its hook and its event, never stored: fan-out stays
idempotent (a (hook, event) pair has one delivery, one item) and a delivery is found by one
GetItem under its hook. The tag makes the id unique: two hooks' deliveries of one event
differ in it."""

import hashlib
import secrets

from ulid import ULID

from events.ids import EVENT_PREFIX, is_event_id
from triggerapi.store import now_ms

HOOK_PREFIX = "hook_"
DELIVERY_PREFIX = "dlv_"
ULID_LENGTH = 26
RANDOM_BITS = 80
# Crockford's base32, as ULIDs are written: the tag reads as part of the id.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TAG_LENGTH = 8


def new_hook_id() -> str:
    """The time and 80 bits from the kernel, and no state: python-ulid's `ULID()` keeps the
    last id's time and bits to stay monotonic, state that a SnapStart snapshot would hand to
    every copy restored from it (triggerapi/thaw.py)."""
    return HOOK_PREFIX + str(ULID.from_int((now_ms() << RANDOM_BITS) | secrets.randbits(RANDOM_BITS)))


def is_hook_id(value: str) -> bool:
    """Only canonical ids reach the store; anything else is simply not found."""
    body = value.removeprefix(HOOK_PREFIX)
    if body == value or len(body) != ULID_LENGTH:
        return False
    try:
        return str(ULID.from_str(body)) == body
    except ValueError:
        return False


def hook_tag(hook_id: str) -> str:
    """40 bits of SHA-256 of the hook id, in 8 base32 characters. A hash, not a slice of the
    hook's ULID, so it does not depend on how the ids were made. Two of a tenant's hooks (at
    most 100) share a tag with probability under 100·99/2 / 2^40 ≈ 4.5e-9: negligible, and
    even then each id still names exactly one delivery under its own hook's URL."""
    bits = int.from_bytes(hashlib.sha256(hook_id.encode()).digest()[:5])
    return "".join(CROCKFORD[(bits >> shift) & 31] for shift in range(35, -1, -5))


def delivery_id_for(hook_id: str, event_id: str) -> str:
    return DELIVERY_PREFIX + event_id.removeprefix(EVENT_PREFIX) + hook_tag(hook_id)


def event_id_of(delivery_id: str, *, hook_id: str) -> str | None:
    """The event a delivery id names under this hook, or None when it names none there (not
    a delivery id, or another hook's). Ids made before deliveries had tags (`dlv_` + the
    event's ULID alone) are still accepted: under one hook such an id names exactly one
    delivery, so links kept from then keep working."""
    body = delivery_id.removeprefix(DELIVERY_PREFIX)
    if body == delivery_id or body[ULID_LENGTH:] not in ("", hook_tag(hook_id)):
        return None
    event_id = EVENT_PREFIX + body[:ULID_LENGTH]
    return event_id if is_event_id(event_id) else None
