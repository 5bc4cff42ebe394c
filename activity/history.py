"""An event's history (OBSERVE.md): its transitions, from the activity table (written from
the events table's stream, activity/stream.py), and its webhook attempts, from the
attempts the delivery pipeline keeps (hooks/attempts.py), merged oldest first and paged
by a cursor holding the last entry's place (its time, then its kind and key)."""

import json

from activity.models import Activity, history_pk
from activity.records import REMOVED
from hooks.attempts import attempts_of_event
from hooks.ids import delivery_id_for
from triggerapi.pagination import Page, cursor_decode, cursor_encode
from triggerapi.store import call, client

TABLE = Activity.Meta.table_name
ENDED = {"succeeded": "delivery_succeeded", "failed": "delivery_failed", "gone": "delivery_failed"}


def _transitions(tenant_id: str, event_id: str, after: list | None, wanted: int) -> tuple[list, bool]:
    """(place, entry) of the transitions from the cursor on: at least `wanted` past it, or
    all; and whether the store holds more."""
    since = f"{after[0]:013d}" if after else "0"
    request = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :since AND :end",
        "ExpressionAttributeValues": {
            ":pk": {"S": history_pk(tenant_id, event_id)},
            ":since": {"S": since},
            # REMOVED sorts after every entry: a removed event's mark is no entry.
            ":end": {"S": REMOVED[:1]},
        },
        "Limit": wanted + 1,
        "ConsistentRead": True,
    }
    found = []
    while True:
        page = call(lambda r=dict(request): client(Activity).query(**r), what="Query history")
        for item in page.get("Items", []):
            at = int(item["at"]["N"])
            place = [at, 0, item["sk"]["S"]]
            if after is None or place > after:
                found.append((place, {"at": at, "what": item["what"]["S"], **json.loads(item["d"]["S"])}))
        start = page.get("LastEvaluatedKey")
        if not start or len(found) > wanted:
            return found, bool(start)
        request["ExclusiveStartKey"] = start


def _attempts(tenant_id: str, event_id: str, after: list | None) -> list:
    found = []
    for attempt in attempts_of_event(tenant_id=tenant_id, event_id=event_id):
        delivery_id = delivery_id_for(attempt.hook_id, event_id)
        key = f"{attempt.hook_id}#{attempt.attempt:04d}"
        found.append(
            (
                [attempt.started_at, 1, key + "#a"],
                {
                    "at": attempt.started_at,
                    "what": "delivery_attempt",
                    "hook_id": attempt.hook_id,
                    "delivery_id": delivery_id,
                    "attempt": attempt.attempt,
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "duration_ms": attempt.duration_ms,
                },
            )
        )
        if attempt.outcome in ENDED:
            ended = attempt.started_at + (attempt.duration_ms or 0)
            entry = {
                "at": ended,
                "what": ENDED[attempt.outcome],
                "hook_id": attempt.hook_id,
                "delivery_id": delivery_id,
            }
            found.append(([ended, 1, key + "#b"], entry))
    return [pair for pair in found if after is None or pair[0] > after]


def history_page(*, tenant_id: str, event_id: str, limit: int = 100, cursor: str | None = None) -> Page[dict]:
    """The event's entries after the cursor, oldest first. The caller checks that the event
    is there (a deleted one has no history)."""
    query = {"history": event_id}
    after = cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query) if cursor else None
    transitions, more = _transitions(tenant_id, event_id, after, limit)
    merged = sorted(transitions + _attempts(tenant_id, event_id, after), key=lambda pair: pair[0])
    # Past the last transition read, an attempt may come before one not read yet.
    if more:
        merged = [pair for pair in merged if pair[0] <= transitions[-1][0]]
    page, rest = merged[:limit], merged[limit:]
    has_more = bool(rest) or more
    next_cursor = cursor_encode(tenant_id=tenant_id, query=query, after=page[-1][0]) if has_more and page else None
    return Page([entry for _, entry in page], next_cursor, has_more)
