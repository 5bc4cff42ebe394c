"""The push-delivery entry points, the same on Lambda and locally (`run_deliveries`).

handle_stream(event, context): the events table's stream function. `event` is what Lambda
sends a DynamoDB stream event source: {"Records": [{"eventName": "INSERT", "dynamodb":
{"Keys": ..., "NewImage": ..., "SequenceNumber": ...}}, ...]}. Each new event is fanned out
to its tenant's matching active hooks: one delivery per hook, created already claimed, and
the first attempts made side by side. Returns Lambda's partial-batch answer: records whose
deliveries could not be created (the store failed) are handed over again, from the first
of them; deliveries already created are recognised and not attempted twice.

run_due(event, context): the scheduled function (every minute; `run_deliveries` calls it
every second): attempts the deliveries whose retry is due, and those whose claim ran out."""

import logging
from collections import defaultdict

from events.ids import EVENT_PREFIX
from events.models import Event
from hooks import deliveries
from hooks.selectors import hooks_active
from triggerapi.store import StoreUnavailable, now_ms

log = logging.getLogger(__name__)

# Leave a scheduled invocation this long to finish the attempts it started.
DUE_MARGIN_MS = 20_000


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
    jobs = []
    for tenant_id, items in by_tenant.items():
        try:
            hooks = hooks_active(tenant_id=tenant_id)
        except StoreUnavailable:
            failed += [sequence_number for sequence_number, _ in items]
            continue
        jobs += [
            (sequence_number, hook, new)
            for sequence_number, new in items
            for hook in hooks
            if deliveries.matches(hook, new)
        ]
    created = deliveries.in_parallel(lambda job: deliveries.deliver_new(job[1], job[2]), jobs)
    claims = []
    for (sequence_number, _, _), outcome in zip(jobs, created, strict=True):
        if isinstance(outcome, BaseException):
            log.warning("delivery not created", extra={"error": f"{type(outcome).__name__}: {outcome}"})
            failed.append(sequence_number)
        elif outcome is not None:
            claims.append(outcome)
    for outcome in deliveries.in_parallel(deliveries.attempt, claims):
        if isinstance(outcome, BaseException):
            # The claim runs out and run_due attempts the delivery again.
            log.warning("delivery attempt not recorded", extra={"error": f"{type(outcome).__name__}: {outcome}"})
    return {"batchItemFailures": [{"itemIdentifier": s} for s in sorted(set(failed), key=lambda s: (len(s), s))]}


def run_due(event: dict | None = None, context=None) -> dict:
    deadline = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        deadline = now_ms() + context.get_remaining_time_in_millis() - DUE_MARGIN_MS
    try:
        attempted = deliveries.run_due(deadline_ms=deadline)
    except StoreUnavailable as exc:
        log.warning("due deliveries not read", extra={"error": str(exc)})
        attempted = 0
    return {"attempted": attempted}
