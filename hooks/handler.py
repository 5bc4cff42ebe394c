"""The push-delivery entry points, the same on Lambda and locally (`run_deliveries`).

handle_stream(event, context): the events table's stream function (fan-out). `event` is what
Lambda sends a DynamoDB stream event source: {"Records": [{"eventName": "INSERT", "dynamodb":
{"Keys": ..., "NewImage": ..., "SequenceNumber": ...}}, ...]}. Each new event becomes one
delivery per matching active hook, due at once, and each such hook's lane is marked ready;
it never waits on a receiver. Returns Lambda's partial-batch answer: records whose
deliveries could not be created (the store failed) are handed over again, from the first of
them; deliveries already created are recognised and not created twice.

dispatch(event, context): the dispatch function (every minute, for longer than a minute, so
one is always running): the dispatcher (hooks/dispatcher.py) takes due deliveries fairly and
attempts them until the time left cannot hold another attempt. `run_deliveries` runs the
same dispatcher on a thread of its own.

run_due(event, context): one pass of the dispatcher over what is due now, until nothing more
is (or the deadline): for a command or a test.

With `context`, no attempt starts that would not end (its timeout and its recording)
DEADLINE_MARGIN_MS before the function must stop.

Each writes its metrics (triggerapi/metrics.py) when it ends, and the dispatch function,
which runs for longer than a minute, every second as well."""

import contextvars
import logging
from collections import Counter, defaultdict

from activity.records import change_of, event_key
from activity.stream import changes_apply
from events.ids import EVENT_PREFIX
from events.models import Event
from hooks import fanout, lanes
from hooks.dispatcher import Dispatcher
from hooks.queues import legacy_due_rekey
from hooks.selectors import hooks_active
from triggerapi import metrics, thaw
from triggerapi.store import StoreUnavailable, now_ms

log = logging.getLogger(__name__)

# What an invocation keeps back from its remaining time: to answer Lambda after the last
# attempt it started has ended and been recorded.
DEADLINE_MARGIN_MS = 2_000
# The activity writes of a batch's tenants, each beside its tenant's fan-out.
ACTIVITY = thaw.Pool(workers=8, name="activity")


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


@metrics.flushed
def handle_stream(event: dict, context=None, *, offer=None) -> dict:
    """`offer(hook, [(delivery, event body), ...], lane version)`, where fan-out and a
    dispatcher share a process (`run_deliveries`), is handed the deliveries just created for
    each hook, so that their lane gets a turn at once (hooks/dispatcher.py `Dispatcher.offer`);
    on Lambda the dispatch function's rounds find them. Every record of an event, new or
    changed, also goes to what the tenant sees of it (activity/stream.py)."""
    records = event.get("Records") or []
    by_tenant: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        key = event_key(record)
        if key is not None:
            by_tenant[key[0]].append(record)
    failed: list[str] = []
    # Tenants side by side: one tenant's hooks and writes never wait behind another's.
    for outcome in fanout.in_parallel(lambda pair: _tenant_records(*pair, offer), list(by_tenant.items())):
        if isinstance(outcome, BaseException):
            raise outcome
        failed += outcome
    return {"batchItemFailures": [{"itemIdentifier": s} for s in sorted(set(failed), key=lambda s: (len(s), s))]}


def _tenant_records(tenant_id: str, records: list[dict], offer) -> list[str]:
    """One tenant's records: its new events fanned out and, beside that, every record
    applied to its counts and histories (the activity write runs while the deliveries are
    made and offered, not after them: the reader's turn lasts the longer of the two); the
    sequence numbers to hand over again (all of them, if the store failed: what was done is
    recognised when they come back)."""
    items = new_events(records)
    every = [record["dynamodb"].get("SequenceNumber", "") for record in records]
    try:
        pairs = _matches(tenant_id, items) if items else []
    except StoreUnavailable as exc:
        log.warning("deliveries not created", extra={"error": str(exc), "tenant": tenant_id})
        return every
    pending: dict[str, Counter] = {}
    for hook, new in pairs:
        pending.setdefault(new.event_id, Counter())[hook.hook_id] += 1
    changes = []
    for record in records:
        new = record["dynamodb"].get("NewImage") or {}
        change = change_of(record, pending=pending.get(new.get("sk", {}).get("S")))
        if change is not None:
            changes.append(change)
    activity = ACTIVITY.submit(contextvars.copy_context().run, changes_apply, tenant_id, changes)
    failed = bool(items) and _fan_out(tenant_id, items, pairs, offer)
    try:
        activity.result()
    except StoreUnavailable as exc:
        log.warning("activity not recorded", extra={"error": str(exc), "tenant": tenant_id})
        failed = True
    return every if failed else []


def _matches(tenant_id: str, items: list[tuple[str, Event]]) -> list:
    """(hook, event) for each of the tenant's active hooks each new event matches."""
    hooks = hooks_active(tenant_id=tenant_id)
    return [(hook, new) for _, new in items for hook in hooks if fanout.matches(hook, new)]


def _fan_out(tenant_id: str, items: list[tuple[str, Event]], pairs: list, offer) -> bool:
    """One tenant's new events made deliveries, and the lane of every hook they match marked
    ready (those made before, by an earlier try of these records, included: whatever failed
    after they were made, they are found). True if the store failed (the records are handed
    over again)."""
    try:
        created = fanout.deliver_new_many(pairs)
        made: dict[str, list] = defaultdict(list)
        for delivery in created:
            made[delivery.hook_id].append(delivery)
        events = {new.event_id: new for _, new in items}
        bodies: dict[str, str] = {}  # each event's body made once, for the hooks it was made for
        for hook in {hook.hook_id: hook for hook, _ in pairs}.values():
            version = lanes.lane_notify(tenant_id=tenant_id, hook_id=hook.hook_id, due_ms=now_ms())
            if offer is not None and made[hook.hook_id]:
                for d in made[hook.hook_id]:
                    if d.event_id not in bodies:
                        bodies[d.event_id] = fanout.event_body(events[d.event_id])
                offer(hook, [(d, bodies[d.event_id]) for d in made[hook.hook_id]], version)
    except StoreUnavailable as exc:
        # Handed over again: the deliveries made are recognised, their lanes marked then.
        log.warning("deliveries not created", extra={"error": str(exc), "tenant": tenant_id})
        return True
    return False


def dispatch(event: dict | None = None, context=None) -> dict:
    dispatcher = Dispatcher()
    try:
        legacy_due_rekey()
    except StoreUnavailable as exc:
        log.warning("legacy due deliveries not moved", extra={"error": str(exc)})
    with metrics.flushing():
        return {"attempted": dispatcher.run(deadline_ms=deadline_of(context))}


@metrics.flushed
def run_due(event: dict | None = None, context=None) -> dict:
    dispatcher = Dispatcher()
    try:
        dispatcher.run_until_idle(deadline_ms=deadline_of(context))
    except StoreUnavailable as exc:
        log.warning("due deliveries not read", extra={"error": str(exc)})
        dispatcher.wait()
    return {"attempted": dispatcher.attempted}
