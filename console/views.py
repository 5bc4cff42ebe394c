"""The console's pages. A page reads what the API's routes read (activity.selectors, the
events' and hooks' selectors) as the tenant whose key the browser logged in with; the login
is the browsable API's session (log in once for both)."""

import json
from datetime import UTC, datetime
from functools import wraps

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import PermissionDenied

from activity.history import history_page
from activity.selectors import WINDOWS, series_get, stats_get
from browser.forms import ApiKeyLoginForm
from console.charts import HEIGHT, WIDTH, bars
from events.lifecycle import REPLAYABLE
from events.models import STATUSES
from events.selectors import event_get, event_list
from events.serializers import ListQuerySerializer, ReplaySerializer
from events.services import event_delete, event_replay, event_retry
from events.services.common import EventNotFound
from tenants.authentication import SESSION_KEY_HASH
from tenants.selectors import tenant_get_by_api_key_hash
from triggerapi.exceptions import exception_handler
from triggerapi.serializers import validated
from triggerapi.store import is_store_unavailable

SERIES = ("ingested", "delivered", "failed")


def console_page(view):
    """The tenant of the session, or the login page; never cached. What the API would answer
    with an error envelope (a 404, a 409, the store unavailable) is an error page saying the
    same, with the same status."""

    @never_cache
    @wraps(view)
    def page(request, *args, **kwargs):
        key_hash = request.session.get(SESSION_KEY_HASH)
        principal = tenant_get_by_api_key_hash(key_hash=key_hash) if key_hash else None
        if principal is None:
            return redirect(f"{reverse('console:login')}?next={request.path}")
        request.principal = principal
        try:
            return view(request, *args, **kwargs)
        except Exception as exc:  # the API's exception handler says what it is, or re-raises
            answer = exception_handler(exc, {"request": request})
            if answer is None or answer.status_code >= 500 and not is_store_unavailable(exc):
                raise
            error = answer.data["error"]
            context = {"error": error, "status": answer.status_code, "tenant_id": principal.tenant_id}
            return render(request, "console/error.html", context, status=answer.status_code)

    return page


@console_page
def overview(request):
    require_scope(request, "consume")
    window = request.GET.get("window") if request.GET.get("window") in WINDOWS else "1h"
    tenant_id = request.principal.tenant_id
    charts = [
        (metric, bars(series_get(tenant_id=tenant_id, metric=metric, window=window)["points"])) for metric in SERIES
    ]
    context = {
        "stats": stats_get(tenant_id=tenant_id),
        "charts": charts,
        "window": window,
        "windows": list(WINDOWS),
        "width": WIDTH,
        "height": HEIGHT,
        "tenant_id": tenant_id,
    }
    return render(request, "console/overview.html", context)


@console_page
def events(request):
    require_scope(request, "consume")
    status = request.GET.get("status") or None
    event_type = request.GET.get("event_type") or None
    query = validated(ListQuerySerializer, {k: v for k, v in request.GET.items() if v})
    page = event_list(tenant_id=request.principal.tenant_id, **{**query, "limit": query.get("limit", 25)})
    context = {
        "page": page,
        "status": status,
        "event_type": event_type or "",
        "statuses": STATUSES,
        "tenant_id": request.principal.tenant_id,
    }
    return render(request, "console/events.html", context)


@console_page
def event(request, event_id: str):
    require_scope(request, "consume")
    tenant_id = request.principal.tenant_id
    found = event_get(tenant_id=tenant_id, event_id=event_id)
    if found is None:
        raise EventNotFound(event_id)
    context = {
        "event": found,
        "payload": json.dumps(found.payload_object(), indent=2, ensure_ascii=False),
        "history": history_page(tenant_id=tenant_id, event_id=event_id).items,
        "tenant_id": tenant_id,
    }
    return render(request, "console/event.html", context)


@require_POST
@console_page
def event_retry_form(request, event_id: str):
    require_scope(request, "consume")
    event_retry(tenant_id=request.principal.tenant_id, event_id=event_id)
    return redirect("console:event", event_id=event_id)


@require_POST
@console_page
def event_delete_form(request, event_id: str):
    require_scope(request, "consume")
    event_delete(tenant_id=request.principal.tenant_id, event_id=event_id)
    return redirect("console:events")


def require_scope(request, scope: str) -> None:
    """The same scopes as the API: a key without it is refused as the API refuses it."""
    if not request.principal.has_scope(scope):
        raise PermissionDenied(f"This key lacks the '{scope}' scope.")


@console_page
def replay(request):
    """The replay form (a time range in UTC, a type, the statuses) and, posted, how many
    events went back to undelivered: one page of the API's replay per post (its cursor in
    the answer's form, to go on)."""
    require_scope(request, "consume")
    context = {"tenant_id": request.principal.tenant_id, "statuses": REPLAYABLE, "replayed": None}
    if request.method == "POST":
        body = {
            "since": _epoch_ms(request.POST.get("since")),
            "until": _epoch_ms(request.POST.get("until")),
            "event_type": request.POST.get("event_type") or None,
            "statuses": request.POST.getlist("statuses") or None,
            "cursor": request.POST.get("cursor") or None,
        }
        data = validated(ReplaySerializer, {name: value for name, value in body.items() if value is not None})
        replayed, cursor = event_replay(tenant_id=request.principal.tenant_id, **data)
        context.update(replayed=replayed, cursor=cursor, form=request.POST)
    return render(request, "console/replay.html", context)


def _epoch_ms(text: str | None) -> int | str | None:
    """A `datetime-local` field (UTC) as epoch ms; what is not one goes to the serializer,
    which refuses it naming the field."""
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        return text


@sensitive_post_parameters("api_key")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """The browsable API's login, on the console's page: one session for both."""
    form = ApiKeyLoginForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        request.session.cycle_key()
        request.session[SESSION_KEY_HASH] = form.key_hash
        return redirect(_next(request))
    return render(request, "console/login.html", {"form": form, "next": _next(request)}, status=200)


@never_cache
@require_POST
def logout(request):
    """The session goes from the store: a copy of its cookie opens nothing more."""
    request.session.flush()
    return redirect("console:login")


def _next(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith("/console/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("console:overview")
