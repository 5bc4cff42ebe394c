"""One table, `{prefix}-Events`, partitioned by tenant. Sort keys: `evt_<ULID>` for events,
`idem#<key>` for idempotency records, so a tenant's events sort by creation."""

import json
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from triggerapi.indexes import KeyedIndex
from triggerapi.store import StoreMeta, table_name

UNDELIVERED = "undelivered"
DELIVERED = "delivered"
FAILED = "failed"
STATUSES = (UNDELIVERED, DELIVERED, FAILED)
# Not a status a client sees: a deleted event's tombstone, invisible to every read.
DELETED = "deleted"


class StatusIndex(GlobalSecondaryIndex["Event"]):
    """A tenant's events in one status, oldest first: the inbox the list endpoint pages."""

    class Meta:
        index_name = "status-index"
        projection = AllProjection()

    tenant_status = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True, attr_name="sk")


class InboxIndex(GlobalSecondaryIndex["Event"]):
    """Sparse: only undelivered events carry its keys, sorted by when they may next be
    claimed, so a claim reads exactly the claimable events and nothing else."""

    class Meta:
        index_name = "inbox-index"
        projection = IncludeProjection(["attempts", "expires_at", "event_type"])

    inbox_tenant = UnicodeAttribute(hash_key=True)
    inbox_key = UnicodeAttribute(range_key=True)


class Event(Model):
    class Meta(StoreMeta):
        table_name = table_name("Events")
        # The table's stream feeds push delivery and what a tenant sees of its events
        # (hooks.handler.handle_stream, on Lambda as the stream's event source, locally
        # through `run_deliveries`): fan-out needs each new event as written, the counters
        # what a change replaced too (from which status an event moved, activity/).
        stream_view_type = "NEW_AND_OLD_IMAGES"

    tenant_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True, attr_name="sk")
    created_at = NumberAttribute()
    status = UnicodeAttribute(default=UNDELIVERED)
    # The payload as compact JSON text: DynamoDB numbers can't hold every JSON number
    # (big ints, 1e300) and maps reorder keys; text round-trips exactly.
    payload = UnicodeAttribute()
    event_type = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    # The current lease: its id (lease_id in claim and extend responses), when it ends, and
    # when the claim that opened it was made (extend caps a lease at 12 h from then).
    lease_id = UnicodeAttribute(null=True)
    lease_expires_at = NumberAttribute(null=True)
    leased_at = NumberAttribute(null=True)
    delivered_at = NumberAttribute(null=True)
    expires_at = TTLAttribute()
    tenant_status = UnicodeAttribute(null=True)
    inbox_tenant = UnicodeAttribute(null=True)
    inbox_key = UnicodeAttribute(null=True)
    # `tenant#event_type` while the event has a type of at most 255 characters: the key of
    # the indexes below, so that a filter by type is a key condition.
    type_key = UnicodeAttribute(null=True)
    # What the last transition was and when (events/lifecycle.py): read from the stream.
    last_op = UnicodeAttribute(null=True)
    last_op_at = NumberAttribute(null=True)
    # How many transitions it has had: orders its history's entries of one millisecond.
    ops = NumberAttribute(null=True)
    # How often the current lease was extended.
    extensions = NumberAttribute(null=True)
    # The last write's token: how a retried write recognises its own first attempt.
    write_token = UnicodeAttribute(null=True)

    status_index = StatusIndex()
    inbox_index = InboxIndex()

    def is_live(self, now: datetime | None = None) -> bool:
        """DynamoDB deletes expired items lazily; until it does, they must stay invisible."""
        return self.expires_at > (now or datetime.now(UTC))

    def payload_object(self) -> dict:
        return json.loads(self.payload)

    @property  # a property, not a method: DRF inspects a method's signature on every render
    def available_at(self) -> int | None:
        """When a claim may next hand the event out: its inbox key's time (its creation, the
        end of its lease or release delay, its retry or replay); None unless undelivered."""
        return int(self.inbox_key.split("#", 1)[0]) if self.status == UNDELIVERED and self.inbox_key else None


# A tenant's events of one type, by id: `?event_type=` lists in either order. Keys only: only
# ingest and delete write it.
TYPE_INDEX = KeyedIndex("type-index", (Event.type_key,), Event.event_id)
# ... and in one status (lists with both filters, replay by type). Its partition changes with
# the status, and so does `expires_at` (ack, replay), so projecting it costs nothing more.
TYPE_STATUS_INDEX = KeyedIndex("type-status-index", (Event.type_key, Event.status), Event.event_id, ("expires_at",))
# The inbox of one type (sparse as the inbox-index is: only undelivered events have an
# inbox_key), what a claim with event_type reads.
INBOX_TYPE_INDEX = KeyedIndex("inbox-type-index", (Event.type_key,), Event.inbox_key, ("attempts", "expires_at"))


def inbox_key(visible_at_ms: int, event_id: str) -> str:
    return f"{visible_at_ms:013d}#{event_id}"


class IdempotencyRecord(Model):
    """What a request with an Idempotency-Key produced, kept 24 h, in the events table."""

    class Meta(StoreMeta):
        table_name = table_name("Events")

    tenant_id = UnicodeAttribute(hash_key=True)
    record_key = UnicodeAttribute(range_key=True, attr_name="sk")
    request_hash = UnicodeAttribute()
    state = UnicodeAttribute()
    # The response body the request produced (or will produce): JSON text.
    response = UnicodeAttribute()
    lease_until = NumberAttribute(default=0)
    expires_at = TTLAttribute()
    write_token = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(idempotency_key: str) -> str:
        return f"idem#{idempotency_key}"
