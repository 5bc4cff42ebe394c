"""The push-delivery entry points, the same on Lambda and locally (`run_deliveries`).

handle_stream(event, context): the events table's stream function. `event` is what Lambda
sends a DynamoDB stream event source: {"Records": [{"eventName": "INSERT", "dynamodb":
{"Keys": ..., "NewImage": ..., "SequenceNumber": ...}}, ...]}. Each new event is fanned out
to its tenant's matching active hooks: one delivery per hook, created already claimed, and
the first attempts made side by side, each recorded as it ends. Returns Lambda's
partial-batch answer: records whose deliveries could not be created (the store failed) are
handed over again, from the first of them; deliveries already created are recognised and
not attempted twice.

run_due(event, context): the scheduled function (every minute; `run_deliveries` calls it
every second): attempts the deliveries whose retry is due, and those whose claim ran out.

On Lambda both stop starting attempts in time to finish them: with `context`, no attempt
starts that would not end (its timeout and its recording) DEADLINE_MARGIN_MS before the
function must stop; the stream function creates the deliveries it cannot attempt in time
due at once, for run_due."""

import logging
from collections import defaultdict

from events.ids import EVENT_PREFIX
from events.models import Event
from hooks import dispatch, fanout
from hooks.selectors import hooks_active
from triggerapi.store import StoreUnavailable, now_ms

log = logging.getLogger(__name__)

# What an invocation keeps back from its remaining time: to answer Lambda after the last
# attempt it started has ended and been recorded.
DEADLINE_MARGIN_MS = 2_000


def deadline_of(context) -> int | None:
    """When the last attempt an invocation starts must have ended (None: no bound)."""
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return now_ms() + context.get_remaining_time_in_millis() - DEADLINE_MARGIN_MS


def new_events(records: list[dict]) -> list[tuple[str, Event]]:
    """(sequence number, event) for each record that inserted an event (not an
    idempotency record, not a change to an existing event)."""
    found = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        image = record.get("dynamodb", {}).get("NewImage") or {}
        if not image.get("sk", {}).get("S", "").startswith(EVENT_PREFIX):
            continue
        found.append((record["dynamodb"].get("SequenceNumber", ""), Event.from_raw_data(image)))
    return found


def handle_stream(event: dict, context=None) -> dict:
    by_tenant: dict[str, list[tuple[str, Event]]] = defaultdict(list)
    for sequence_number, new in new_events(event.get("Records") or []):
        by_tenant[new.tenant_id].append((sequence_number, new))
    failed: list[str] = []
    claims = []
    claimable = dispatch.claimable(deadline_of(context))
    for tenant_id, items in by_tenant.items():
        try:
            hooks = hooks_active(tenant_id=tenant_id)
        except StoreUnavailable:
            failed += [sequence_number for sequence_number, _ in items]
            continue
        pairs = [(hook, new) for _, new in items for hook in hooks if fanout.matches(hook, new)]
        try:
            left = None if claimable is None else max(0, claimable - len(claims))
            claims += fanout.deliver_new_many(pairs, claimable=left)
        except StoreUnavailable as exc:
            log.warning("deliveries not created", extra={"error": str(exc), "tenant": tenant_id})
            failed += [sequence_number for sequence_number, _ in items]
    dispatch.attempts_make(claims)
    return {"batchItemFailures": [{"itemIdentifier": s} for s in sorted(set(failed), key=lambda s: (len(s), s))]}


def run_due(event: dict | None = None, context=None) -> dict:
    try:
        attempted = dispatch.run_due(deadline_ms=deadline_of(context))
    except StoreUnavailable as exc:
        log.warning("due deliveries not read", extra={"error": str(exc)})
        attempted = 0
    return {"attempted": attempted}
