"""The console's event pages: the overview (stats and charts), the events, one event with its
payload and history, its retry and delete, and the replay form. Each reads and writes through
what the API's routes use (activity.selectors, the events' selectors and services), as the
tenant whose key the browser logged in with (console/auth.py)."""

import json
from datetime import UTC, datetime

from django.shortcuts import redirect

from activity.history import history_page
from activity.selectors import WINDOWS, series_of, stats_get
from activity.serializers import HistoryQuerySerializer
from console.charts import HEIGHT, WIDTH, drawn
from console.pages import console_page, page, require_scope
from events.lifecycle import REPLAYABLE
from events.models import STATUSES
from events.selectors import event_get, event_list
from events.serializers import ListQuerySerializer, ReplaySerializer
from events.services import event_delete, event_replay, event_retry
from events.services.common import EventNotFound
from triggerapi.serializers import validated

SERIES = ("ingested", "delivered", "failed")
PAGE_SIZE = 25


@console_page("GET")
def overview(request):
    """The stats and a chart of each series; a key without `consume` (which the stats need)
    sees what it may do instead."""
    if not request.principal.has_scope("consume"):
        return page(request, "console/overview.html", {"stats": None})
    window = request.GET.get("window") if request.GET.get("window") in WINDOWS else "1h"
    tenant_id = request.principal.tenant_id
    charts = [
        {"metric": series["metric"], "step": series["step_seconds"], "drawn": drawn(series["points"])}
        for series in series_of(tenant_id=tenant_id, metrics=list(SERIES), window=window)
    ]
    context = {
        "stats": stats_get(tenant_id=tenant_id),
        "charts": charts,
        "window": window,
        "windows": list(WINDOWS),
        "width": WIDTH,
        "height": HEIGHT,
    }
    return page(request, "console/overview.html", context)


@console_page("GET")
def events(request):
    """Newest first (whatever the status: the API lists a status oldest first unless told), by
    status and type, a page at a time (the list's own cursor)."""
    require_scope(request, "consume")
    asked = {k: v for k, v in request.GET.items() if v}
    query = validated(ListQuerySerializer, {"limit": PAGE_SIZE, "order": "desc", **asked})
    found = event_list(tenant_id=request.principal.tenant_id, **query)
    context = {
        "page": found,
        "status": query.get("status") or "",
        "event_type": query.get("event_type") or "",
        "statuses": STATUSES,
    }
    return page(request, "console/events.html", context)


@console_page("GET")
def event(request, event_id: str):
    """The event and its history, 100 entries a page (`?cursor=`, the history's own)."""
    require_scope(request, "consume")
    tenant_id = request.principal.tenant_id
    found = event_get(tenant_id=tenant_id, event_id=event_id)
    if found is None:
        raise EventNotFound(event_id)
    query = validated(HistoryQuerySerializer, {k: v for k, v in request.GET.items() if v})
    context = {
        "event": found,
        "payload": json.dumps(found.payload_object(), indent=2, ensure_ascii=False),
        "history": history_page(tenant_id=tenant_id, event_id=event_id, **query),
    }
    return page(request, "console/event.html", context)


@console_page("POST")
def event_retry_form(request, event_id: str):
    require_scope(request, "consume")
    event_retry(tenant_id=request.principal.tenant_id, event_id=event_id)
    return redirect("console:event", event_id=event_id)


@console_page("POST")
def event_delete_form(request, event_id: str):
    require_scope(request, "consume")
    event_delete(tenant_id=request.principal.tenant_id, event_id=event_id)
    return redirect("console:events")


@console_page("GET", "POST")
def replay(request):
    """The replay form (a time range in UTC, a type, the statuses) and, posted, how many
    events went back to undelivered: one page of the API's replay per post (its cursor in
    the answer's form, to go on)."""
    require_scope(request, "consume")
    context = {"statuses": REPLAYABLE, "replayed": None, "chosen": REPLAYABLE, "form": {}}
    if request.method == "POST":
        body = {
            "since": _epoch_ms(request.POST.get("since")),
            "until": _epoch_ms(request.POST.get("until")),
            "event_type": request.POST.get("event_type") or None,
            # None ticked is a choice the API refuses (400), not "both".
            "statuses": request.POST.getlist("statuses"),
            "cursor": request.POST.get("cursor") or None,
        }
        data = validated(ReplaySerializer, {name: value for name, value in body.items() if value is not None})
        replayed, cursor = event_replay(tenant_id=request.principal.tenant_id, **data)
        chosen = request.POST.getlist("statuses") or REPLAYABLE
        context.update(replayed=replayed, cursor=cursor, form=request.POST, chosen=chosen)
    return page(request, "console/replay.html", context)


def _epoch_ms(text: str | None) -> int | str | None:
    """A `datetime-local` field as epoch ms: UTC unless the text names its offset; what is not
    a time goes to the serializer, which refuses it naming the field."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return int(when.timestamp() * 1000)
