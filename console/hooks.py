"""The console's hook pages: the list with each hook's status and success rate (from the
stats), a hook with its deliveries and their attempts, and the forms that create, change,
rotate, test and retry, each through the hooks' own services (scope `hooks`)."""

from django.shortcuts import redirect

from activity.selectors import stats_get
from console.pages import console_page, page, require_scope
from hooks import selectors, services, vault
from hooks.attempts import attempts_of_delivery
from hooks.models import DELIVERY_STATUSES
from hooks.serializers import DeliveryQuerySerializer, HookCreateSerializer, HookUpdateSerializer
from hooks.views import DeliveryNotFound, delivery_retried, hook_created
from triggerapi.serializers import validated

SHOW_SECRET = "console_show_secret"
# Deliveries a page: each one's attempts are a query of their own (an event's partition).
PAGE_SIZE = 10


def _form_body(request, *, blank_clears: bool = False) -> dict:
    """A form's fields as the API's JSON body: event types one a line. A field left empty is
    absent on create; on edit (`blank_clears`) it is null, which clears a description or a
    rate limit as the API's PATCH does. A field the form does not send stays as it is."""
    body = {name: value.strip() for name, value in request.POST.items() if name != "csrfmiddlewaretoken"}
    if "event_types" in body:
        body["event_types"] = [line.strip() for line in body["event_types"].splitlines() if line.strip()]
    if body.get("rate_limit"):
        body["rate_limit"] = int(body["rate_limit"]) if body["rate_limit"].isdecimal() else body["rate_limit"]
    if blank_clears:
        return {name: (None if value == "" else value) for name, value in body.items()}
    return {name: value for name, value in body.items() if value != ""}


@console_page("GET")
def hooks(request):
    require_scope(request, "hooks")
    tenant_id = request.principal.tenant_id
    # Their counts are the stats', which need `consume` as /v1/stats does.
    counted = request.principal.has_scope("consume")
    rates = {h["id"]: h for h in stats_get(tenant_id=tenant_id)["hooks"]} if counted else {}
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
    return _secret_once(request, created.hook.hook_id)


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
    changes = validated(HookUpdateSerializer, _form_body(request, blank_clears=True))
    services.hook_update(tenant_id=request.principal.tenant_id, hook_id=hook_id, changes=changes)
    return redirect("console:hook", hook_id=hook_id)


@console_page("POST")
def hook_rotate(request, hook_id: str):
    require_scope(request, "hooks")
    services.hook_rotate_secret(tenant_id=request.principal.tenant_id, hook_id=hook_id)
    return _secret_once(request, hook_id)


def _secret_once(request, hook_id: str):
    """After a create or a rotation, the secret's page, once: the session holds which hook's
    secret may be shown (never the secret), and the page reads it from the hook, so a store
    failure before it is shown loses nothing (reload the page). Reloading it once shown shows
    it no more, and the form's answer being a redirect, nothing is posted again: no second
    hook, no second rotation dropping the secret the receiver still checks."""
    request.session[SHOW_SECRET] = hook_id
    return redirect("console:hook-secret", hook_id=hook_id)


@console_page("GET")
def hook_secret(request, hook_id: str):
    require_scope(request, "hooks")
    found = services.hook_found(tenant_id=request.principal.tenant_id, hook_id=hook_id)
    shown = request.session.get(SHOW_SECRET) == hook_id
    if shown:
        del request.session[SHOW_SECRET]
    secret = vault.unseal(found.secret) if shown else None
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
