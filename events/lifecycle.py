"""An event's state machine, in one place: what each status means for the attributes that
put the event in an index, hold its lease and end its life. Every transition (ingest,
claim, fail, ack, release, retry, extend, replay, delete) is built here and nothing else
writes these attributes, so no site can forget one and leave an event invisible to a list
or a claim.

  status       index keys                               lease            delivered_at  expires_at (TTL)
  undelivered  tenant_status; inbox (next claimable)    while claimed    none          RETENTION_DAYS on
  delivered    tenant_status                            none             set           DELIVERED_RETENTION on
  failed       tenant_status                            none             none          as it was
  deleted      none: a tombstone, invisible to reads    none             none          when deleted

Every transition also says what it was (`last_op`, `last_op_at`, and its number: `ops`) in
its own write, so the table's stream tells each event's story as it happened (activity/
reads it there): a retry and a replay, or two extensions, look alike otherwise. `extensions` counts a lease's
extensions, so its story keeps the first and the last only.

The lease is `lease_id`, `lease_expires_at` and `leased_at`; the inbox is `inbox_tenant`
and `inbox_key`; `tenant_status` is the status index's key. `type_key` (an event with a type
of at most MAX_INDEXED_TYPE characters, from its ingest to its deletion) keys the indexes by
type; with `status` and `inbox_key` it puts the event in the right one of them, so no
transition but ingest and delete needs to know the type.
A held lease puts the event in the inbox at its end (`inbox_key` = lease end), so an expired
lease makes the event claimable again with no write at all."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from pynamodb.expressions.condition import Condition

from events.ids import created_at_of
from events.models import DELETED, DELIVERED, FAILED, UNDELIVERED, Event, inbox_key
from events.payloads import canonical_json

DAY_MS = 86_400_000
# Longer types are stored but not indexed (LIMITS.md): a filter cannot name one (its fields
# take at most 255 characters), and the index keys stay within DynamoDB's 2048 bytes.
MAX_INDEXED_TYPE = 255
# What replay moves back to undelivered.
REPLAYABLE = (DELIVERED, FAILED)
# A lease runs at most this long from the claim that opened it, however often extended.
MAX_LEASE_SECONDS = 12 * 3600
LEASE_ATTRIBUTES = (Event.lease_id, Event.lease_expires_at, Event.leased_at)
INBOX_ATTRIBUTES = (Event.inbox_tenant, Event.inbox_key)
# What each transition records as `last_op`.
INGESTED, CLAIMED, EXTENDED, RELEASED, ACKED = "ingested", "claimed", "extended", "released", "acked"
FAILED_OP, RETRIED, REPLAYED, DELETED_OP = "failed", "retried", "replayed", "deleted"


@dataclass(frozen=True)
class Transition:
    """The update that moves an event, and the condition under which it is legal."""

    actions: list
    condition: Condition


def as_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def live(now: int) -> Condition:
    """The event exists and its retention has not run out (DynamoDB deletes lazily)."""
    return Event.event_id.exists() & (Event.expires_at > as_datetime(now))


def _status(tenant_id: str, status: str) -> list:
    return [Event.status.set(status), Event.tenant_status.set(f"{tenant_id}#{status}")]


def _in_inbox(tenant_id: str, event_id: str, claimable_at: int) -> list:
    return [Event.inbox_tenant.set(tenant_id), Event.inbox_key.set(inbox_key(claimable_at, event_id))]


def _removed(*attributes) -> list:
    return [attribute.remove() for attribute in attributes]


def _op(op: str, at: int) -> list:
    """What the transition was, and when: the stream's reader reads it, never infers it."""
    return [Event.last_op.set(op), Event.last_op_at.set(at), Event.ops.add(1)]


def type_key(tenant_id: str, event_type: str | None) -> str | None:
    """The key of the tenant's events of this type in the indexes by type; None for a type
    they do not hold."""
    if event_type is None or len(event_type) > MAX_INDEXED_TYPE:
        return None
    return f"{tenant_id}#{event_type}"


def new_event(tenant_id: str, event_id: str, payload: dict) -> Event:
    """Ingest: undelivered, claimable from its creation."""
    created_at = created_at_of(event_id)
    event_type = payload.get("event_type")
    event_type = event_type if isinstance(event_type, str) else None
    return Event(
        tenant_id,
        event_id,
        created_at=created_at,
        status=UNDELIVERED,
        tenant_status=f"{tenant_id}#{UNDELIVERED}",
        payload=canonical_json(payload),
        event_type=event_type,
        type_key=type_key(tenant_id, event_type),
        attempts=0,
        expires_at=as_datetime(created_at + settings.RETENTION_DAYS * DAY_MS),
        inbox_tenant=tenant_id,
        inbox_key=inbox_key(created_at, event_id),
        last_op=INGESTED,
        last_op_at=created_at,
        ops=0,
    )


def claim(candidate: Event, *, now: int, lease_seconds: int, lease_id: str) -> Transition:
    """A lease on an event read from the inbox, if nobody moved it since we read it."""
    lease_expires_at = now + lease_seconds * 1000
    return Transition(
        [
            Event.attempts.add(1),
            Event.lease_id.set(lease_id),
            Event.lease_expires_at.set(lease_expires_at),
            Event.leased_at.set(now),
            Event.inbox_key.set(inbox_key(lease_expires_at, candidate.event_id)),
            Event.extensions.set(0),
            *_op(CLAIMED, now),
        ],
        Event.inbox_key == candidate.inbox_key,
    )


def fail(candidate: Event, *, now: int) -> Transition:
    """An event read from the inbox that has used up its attempts."""
    return Transition(
        [
            *_status(candidate.tenant_id, FAILED),
            *_removed(*INBOX_ATTRIBUTES, *LEASE_ATTRIBUTES, Event.extensions),
            *_op(FAILED_OP, now),
        ],
        Event.inbox_key == candidate.inbox_key,
    )


def ack(tenant_id: str, *, now: int) -> Transition:
    return Transition(
        [
            *_status(tenant_id, DELIVERED),
            Event.delivered_at.set(now),
            Event.expires_at.set(as_datetime(now + settings.DELIVERED_RETENTION_DAYS * DAY_MS)),
            *_removed(*INBOX_ATTRIBUTES, *LEASE_ATTRIBUTES, Event.extensions),
            *_op(ACKED, now),
        ],
        Event.status != DELIVERED,
    )


def release(tenant_id: str, event_id: str, *, now: int, delay_seconds: int, lease_id: str | None) -> Transition:
    """Give the event back: claimable again after the delay. With a lease id, only that lease."""
    condition = Event.status == UNDELIVERED if lease_id is None else holds_lease(lease_id, now=now)
    return Transition(
        [
            *_in_inbox(tenant_id, event_id, now + delay_seconds * 1000),
            *_removed(*LEASE_ATTRIBUTES, Event.extensions),
            *_op(RELEASED, now),
        ],
        condition,
    )


def holds_lease(lease_id: str, *, now: int) -> Condition:
    """The event is undelivered and `lease_id` is its current lease, not yet ended."""
    return (Event.status == UNDELIVERED) & (Event.lease_id == lease_id) & (Event.lease_expires_at > now)


def extend(event_id: str, *, now: int, lease_seconds: int, lease_id: str) -> Transition:
    """Keep the lease (and its id) for `lease_seconds` more, if it is still the current one
    and would not run past MAX_LEASE_SECONDS from its claim."""
    lease_expires_at = now + lease_seconds * 1000
    return Transition(
        [
            Event.lease_expires_at.set(lease_expires_at),
            Event.inbox_key.set(inbox_key(lease_expires_at, event_id)),
            Event.extensions.add(1),
            *_op(EXTENDED, now),
        ],
        holds_lease(lease_id, now=now) & (Event.leased_at >= lease_expires_at - MAX_LEASE_SECONDS * 1000),
    )


def retry(tenant_id: str, event_id: str, *, now: int) -> Transition:
    """A failed event back in the inbox, with a fresh count of attempts."""
    return Transition(
        [
            *_status(tenant_id, UNDELIVERED),
            Event.attempts.set(0),
            *_in_inbox(tenant_id, event_id, now),
            *_op(RETRIED, now),
        ],
        Event.status == FAILED,
    )


def replay(tenant_id: str, event_id: str, *, now: int) -> Transition:
    """A delivered or failed event back in the inbox, claimable at once, attempts 0, its
    retention restarting now."""
    return Transition(
        [
            *_status(tenant_id, UNDELIVERED),
            Event.attempts.set(0),
            Event.expires_at.set(as_datetime(now + settings.RETENTION_DAYS * DAY_MS)),
            *_in_inbox(tenant_id, event_id, now),
            *_removed(Event.delivered_at, *LEASE_ATTRIBUTES, Event.extensions),
            *_op(REPLAYED, now),
        ],
        Event.status.is_in(*REPLAYABLE),
    )


def delete(*, now: int) -> Transition:
    """A tombstone: the payload goes at once, the item when TTL reaps it (see the README)."""
    return Transition(
        [
            Event.status.set(DELETED),
            Event.expires_at.set(as_datetime(now)),
            *_removed(
                Event.payload,
                Event.event_type,
                Event.type_key,
                Event.tenant_status,
                Event.delivered_at,
                *INBOX_ATTRIBUTES,
                *LEASE_ATTRIBUTES,
                Event.extensions,
            ),
            *_op(DELETED_OP, now),
        ],
        Event.event_id.exists(),
    )


def index_type(tenant_id: str, event_type: str) -> Transition:
    """An event stored before the indexes by type existed, put in them: only if it still has
    this type (not deleted since it was read) and is not in them yet."""
    return Transition(
        [Event.type_key.set(type_key(tenant_id, event_type))],
        (Event.event_type == event_type) & Event.type_key.does_not_exist(),
    )
