"""One table, `{prefix}-Activity`, for what a tenant sees of what happened:

- counters: pk = `cnt#<tenant>`, sk = `counters`: `undelivered` and `failed` (events in that
  status now) and `p#<hook>` (the hook's deliveries still owed);
- buckets: pk = `ser#<tenant>`, sk = `<m|q|h>#<start ms>` (a minute, a quarter of an hour,
  an hour): counts of what happened in it (BUCKET_METRICS), per hook `as#<hook>`,
  `af#<hook>` (attempts that succeeded, failed) and `df#<hook>` (deliveries that ended
  failed), and, in minutes only, `l#<hook>#<bin>` (how many deliveries succeeded that long
  after their event's ingest: activity.latency);
- history: pk = `hist#<tenant>#<event_id>`, sk = `<at ms>#<order>#<what>`: one entry per
  transition of the event, its details in `d` (JSON), `<order>` the transition's number
  among the event's (its `ops`), so that one millisecond's entries keep their order. The
  keys follow from the transition,
  so an entry written twice is one entry, and its first write is what tells a stream record
  handed over twice (activity.stream).

Attributes named after a hook are written with raw expressions (activity.store): PynamoDB
models declare fixed attributes, and this model is the table's definition (keys, TTL)."""

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from triggerapi.store import StoreMeta, table_name

COUNTERS_SK = "counters"
MINUTE, QUARTER, HOUR = "m", "q", "h"
STEP_MS = {MINUTE: 60_000, QUARTER: 900_000, HOUR: 3_600_000}
# How long a bucket is kept: the longest window that reads it, and a day more.
KEEP_MS = {MINUTE: 2 * 86_400_000, QUARTER: 2 * 86_400_000, HOUR: 8 * 86_400_000}
# What the events' own transitions count (the series' event metrics).
INGESTED, DELIVERED, FAILED = "ingested", "delivered", "failed"
BUCKET_METRICS = (INGESTED, DELIVERED, FAILED)
# Attempts of all the tenant's hooks, and per hook with `#<hook>`.
ATTEMPTS_SUCCEEDED, ATTEMPTS_FAILED, DELIVERIES_FAILED, PENDING = "as", "af", "df", "p"


class Activity(Model):
    class Meta(StoreMeta):
        table_name = table_name("Activity")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = TTLAttribute(null=True)
    # A history entry's transition, time and details.
    what = UnicodeAttribute(null=True)
    at = NumberAttribute(null=True)
    d = UnicodeAttribute(null=True)


def counters_key(tenant_id: str) -> tuple[str, str]:
    return f"cnt#{tenant_id}", COUNTERS_SK


def series_pk(tenant_id: str) -> str:
    return f"ser#{tenant_id}"


def bucket_start(step: str, at_ms: int) -> int:
    return at_ms - at_ms % STEP_MS[step]


def bucket_sk(step: str, start_ms: int) -> str:
    return f"{step}#{start_ms:013d}"


def history_pk(tenant_id: str, event_id: str) -> str:
    return f"hist#{tenant_id}#{event_id}"


def history_sk(at_ms: int, order: str, what: str) -> str:
    return f"{at_ms:013d}#{order}#{what}"
