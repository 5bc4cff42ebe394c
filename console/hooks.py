"""The console's hook pages: the list with each hook's status and success rate (from the
stats), a hook with its deliveries and their attempts, and the forms that create, change,
rotate, test and retry, each through the hooks' own services (scope `hooks`)."""

from django.shortcuts import redirect

from activity.selectors import stats_get
from console.pages import console_page, page, require_scope
from hooks import selectors, services
from hooks.attempts import attempts_of_delivery
from hooks.models import DELIVERY_STATUSES
from hooks.serializers import DeliveryQuerySerializer, HookCreateSerializer, HookUpdateSerializer
from hooks.views import DeliveryNotFound, delivery_retried, hook_created
from triggerapi.serializers import validated

PAGE_SIZE = 25


def _form_body(request) -> dict:
    """A form's fields as the API's JSON body: event types one a line, empty fields absent."""
    body = {name: value.strip() for name, value in request.POST.items() if name != "csrfmiddlewaretoken"}
    if "event_types" in body:
        body["event_types"] = [line.strip() for line in body["event_types"].splitlines() if line.strip()]
    if body.get("rate_limit"):
        body["rate_limit"] = int(body["rate_limit"]) if body["rate_limit"].isdecimal() else body["rate_limit"]
    return {name: value for name, value in body.items() if value not in ("", None)}


@console_page("GET")
def hooks(request):
    require_scope(request, "hooks")
    tenant_id = request.principal.tenant_id
    rates = {h["id"]: h for h in stats_get(tenant_id=tenant_id)["hooks"]}
    listed = selectors.hooks_all(tenant_id=tenant_id)
    rows = []
    for hook in listed:
        stats = rates.get(hook.hook_id, {})
        ended = stats.get("succeeded", {}).get("24h", 0) + stats.get("failed", {}).get("24h", 0)
        rate = round(100 * stats.get("succeeded", {}).get("24h", 0) / ended) if ended else None
        rows.append({"hook": hook, "stats": stats, "success_rate": rate})
    return page(request, "console/hooks.html", {"rows": rows})


@console_page("POST")
def hook_create(request):
    require_scope(request, "hooks")
    data = validated(HookCreateSerializer, _form_body(request))
    created = hook_created(request.principal, data)
    # The secret is shown once, on this answer's page, and kept nowhere else.
    return page(request, "console/secret.html", {"hook": created.hook, "secret": created.secret})


@console_page("GET")
def hook(request, hook_id: str):
    require_scope(request, "hooks")
    tenant_id = request.principal.tenant_id
    found = services.hook_found(tenant_id=tenant_id, hook_id=hook_id)
    query = validated(DeliveryQuerySerializer, {"limit": PAGE_SIZE, **{k: v for k, v in request.GET.items() if v}})
    listed = selectors.deliveries_list(tenant_id=tenant_id, hook_id=hook_id, **query)
    rows = [(d, attempts_of_delivery(tenant_id=tenant_id, hook_id=hook_id, event_id=d.event_id)) for d in listed.items]
    status = query.get("status") or ""
    context = {"hook": found, "rows": rows, "page": listed, "status": status, "statuses": DELIVERY_STATUSES}
    return page(request, "console/hook.html", context)


@console_page("POST")
def hook_update(request, hook_id: str):
    require_scope(request, "hooks")
    changes = validated(HookUpdateSerializer, _form_body(request))
    services.hook_update(tenant_id=request.principal.tenant_id, hook_id=hook_id, changes=changes)
    return redirect("console:hook", hook_id=hook_id)


@console_page("POST")
def hook_rotate(request, hook_id: str):
    require_scope(request, "hooks")
    # Read before the write: a store failure after the rotation would lose the only copy of
    # the new secret (and a second rotation then drops the one the receiver still checks).
    found = services.hook_found(tenant_id=request.principal.tenant_id, hook_id=hook_id)
    secret = services.hook_rotate_secret(tenant_id=request.principal.tenant_id, hook_id=hook_id)
    return page(request, "console/secret.html", {"hook": found, "secret": secret})


@console_page("POST")
def hook_test(request, hook_id: str):
    require_scope(request, "hooks")
    found = services.hook_found(tenant_id=request.principal.tenant_id, hook_id=hook_id)
    result = services.hook_test(tenant_id=request.principal.tenant_id, hook_id=hook_id)
    # The first KiB of the answer, as an attempt's excerpt keeps it.
    excerpt = result.body[:1024].decode("utf-8", "replace")
    return page(request, "console/tested.html", {"hook": found, "result": result, "excerpt": excerpt})


@console_page("POST")
def delivery_retry(request, hook_id: str, delivery_id: str):
    require_scope(request, "hooks")
    tenant_id = request.principal.tenant_id
    found = services.hook_found(tenant_id=tenant_id, hook_id=hook_id)
    delivery = selectors.delivery_get(tenant_id=tenant_id, hook_id=hook_id, delivery_id=delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    delivery_retried(found, delivery)
    return redirect("console:hook", hook_id=hook_id)
