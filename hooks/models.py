"""One table, `{prefix}-Hooks`, for everything push delivery keeps:

- hooks: pk = tenant, sk = `hook#<hook_id>`; beside them the tenant's hook count
  (sk = `hooks#count`, kept by the same transaction that creates or deletes a hook);
- deliveries: pk = `dlv#<tenant>#<hook_id>`, sk = the event id, so a hook's deliveries page
  in event order and a (hook, event) pair has exactly one delivery;
- stream checkpoints: pk = `checkpoint#<stream>`, sk = the shard id;
- the secret-key canary: pk = `canary#secret_key`, sk = `canary` (hooks/rekey.py);
- lanes, one per hook with work: pk = `lane#<tenant>#<hook_id>`, sk = `lane` (hooks/lanes.py);
- attempts, one per attempt of a delivery: pk = `att#<tenant>#<event_id>`, sk =
  `<hook_id>#<attempt:04d>` (hooks/attempts.py).

Deliveries waiting for an attempt carry the sparse due-index keys (the inbox's pattern):
`due_shard` is their hook's queue (`due#<tenant>#<hook>`), `due_key` sorts them by when they
are next due; a hook with one due is in the ready-index by its lane. The table is created
from Delivery's definition (keys, due-index, TTL), and DELIVERY_STATUS_INDEX lists a hook's deliveries in one status."""

from pynamodb.attributes import ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from hooks.ids import delivery_id_for
from triggerapi.indexes import KeyedIndex
from triggerapi.store import StoreMeta, table_name

ACTIVE = "active"
DISABLED = "disabled"
HOOK_STATUSES = (ACTIVE, DISABLED)
GONE = "gone"
FAILING = "failing"
MANUAL = "manual"
DISABLED_REASONS = (GONE, FAILING, MANUAL)

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED)

HOOK_PREFIX = "hook#"
COUNT_KEY = "hooks#count"
# Before each hook had its own queue, due deliveries were spread over this many shards.
LEGACY_DUE_SHARDS = 4


class Hook(Model):
    class Meta(StoreMeta):
        table_name = table_name("Hooks")

    tenant_id = UnicodeAttribute(hash_key=True, attr_name="pk")
    sk = UnicodeAttribute(range_key=True)
    hook_id = UnicodeAttribute()
    target_url = UnicodeAttribute()
    event_types = ListAttribute(of=UnicodeAttribute, default=list)
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=ACTIVE)
    disabled_reason = UnicodeAttribute(null=True)
    # Attempts per second to this hook (HOOKS.md); absent: only the tenant's limits apply.
    rate_limit = NumberAttribute(null=True)
    # The signing secret, sealed (hooks.vault); during a rotation the previous one signs
    # beside it until previous_secret_until (epoch ms).
    secret = UnicodeAttribute()
    previous_secret = UnicodeAttribute(null=True)
    previous_secret_until = NumberAttribute(null=True)
    # The prefix of the key that created it (absent on hooks created before it was kept).
    created_by = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    # When the first failed attempt since the last success was made (hooks.schedule).
    failing_since = NumberAttribute(null=True)
    # When its last test was sent (epoch ms): one test per hook per 5 s (hooks.services).
    tested_at = NumberAttribute(null=True)
    write_token = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(hook_id: str) -> str:
        return f"{HOOK_PREFIX}{hook_id}"


class HookCount(Model):
    class Meta(StoreMeta):
        table_name = table_name("Hooks")

    tenant_id = UnicodeAttribute(hash_key=True, attr_name="pk")
    sk = UnicodeAttribute(range_key=True, default=COUNT_KEY)
    count = NumberAttribute(default=0)
    write_token = UnicodeAttribute(null=True)


class DueIndex(GlobalSecondaryIndex["Delivery"]):
    """Sparse: only deliveries waiting for an attempt carry its keys."""

    class Meta:
        index_name = "due-index"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class Delivery(Model):
    class Meta(StoreMeta):
        table_name = table_name("Hooks")

    pk = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True, attr_name="sk")
    tenant_id = UnicodeAttribute()
    hook_id = UnicodeAttribute()
    status = UnicodeAttribute(default=PENDING)
    attempts = NumberAttribute(default=0)
    # attempts made before the schedule last restarted (a manual retry): the schedule counts
    # from there.
    schedule_base = NumberAttribute(default=0)
    next_attempt_at = NumberAttribute(null=True)
    # An attempt in progress: its id and when its claim runs out (then another may start).
    attempt_id = UnicodeAttribute(null=True)
    attempt_until = NumberAttribute(null=True)
    last_status_code = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    succeeded_at = NumberAttribute(null=True)
    expires_at = TTLAttribute()
    due_shard = UnicodeAttribute(null=True)
    due_key = UnicodeAttribute(null=True)
    # Set while the hook is disabled: the delivery left the due-index and waits for the hook
    # to be re-enabled (hooks.outcomes.resume).
    parked_at = NumberAttribute(null=True)
    # The body to send, for a delivery of an event about the tenant's own integration
    # (hooks/notices.py): such an event has no row in the events table to read it from.
    body = UnicodeAttribute(null=True)
    write_token = UnicodeAttribute(null=True)

    due_index = DueIndex()

    @staticmethod
    def pk_for(tenant_id: str, hook_id: str) -> str:
        return f"dlv#{tenant_id}#{hook_id}"

    @property
    def delivery_id(self) -> str:
        return delivery_id_for(self.hook_id, self.event_id)


# A hook's deliveries in one status, by event: keyed by the attributes a delivery already has
# (its partition and status), so whatever changes a delivery's status moves it here, and
# DynamoDB fills the index from the deliveries a table already holds. Keys only: only a
# delivery's creation and its changes of status write it. (Hooks, which have a pk and a
# status too, are in it as well, under their tenant's partitions: never read.)
DELIVERY_STATUS_INDEX = KeyedIndex("delivery-status-index", (Delivery.pk, Delivery.status), Delivery.event_id)


def due_shard_for(pk: str) -> str:
    """A hook's own queue in the due-index (`pk` is its deliveries' partition): the dispatcher
    reads one hook's due deliveries, soonest first, and never another's backlog."""
    return "due#" + pk.removeprefix("dlv#")


def legacy_due_shards() -> list[str]:
    """The shards deliveries were due in before each hook had its own queue."""
    return [f"due#{n}" for n in range(LEGACY_DUE_SHARDS)]


def due_key_for(due_at_ms: int, pk: str, event_id: str) -> str:
    return f"{due_at_ms:013d}#{pk}#{event_id}"


class StreamCheckpoint(Model):
    """How far `run_deliveries` has handed a shard's records to the handler."""

    class Meta(StoreMeta):
        table_name = table_name("Hooks")

    stream = UnicodeAttribute(hash_key=True, attr_name="pk")
    shard_id = UnicodeAttribute(range_key=True, attr_name="sk")
    sequence_number = UnicodeAttribute(null=True)
    # set when the shard was read to its end (closed and drained)
    finished = NumberAttribute(null=True)
    updated_at = NumberAttribute()
    # The reader's lease (devstack/stream/lease.py), on its own row: who reads the stream.
    holder = UnicodeAttribute(null=True)
    held_until = NumberAttribute(null=True)


CANARY_KEY = "canary#secret_key"


class SecretCanary(Model):
    """A known text sealed like the hooks' secrets (hooks.vault), by create_tables and by
    reseal_hook_secrets: a process whose SECRET_KEY and fallbacks cannot open it cannot
    open the secrets either, and /health/ready says so."""

    class Meta(StoreMeta):
        table_name = table_name("Hooks")

    pk = UnicodeAttribute(hash_key=True, default=CANARY_KEY)
    sk = UnicodeAttribute(range_key=True, default="canary")
    sealed = UnicodeAttribute()
    updated_at = NumberAttribute()
    write_token = UnicodeAttribute(null=True)
