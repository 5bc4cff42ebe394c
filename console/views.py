"""The console's pages. A page reads what the API's routes read (activity.selectors, the
events' and hooks' selectors) as the tenant whose key the browser logged in with; the login
is the browsable API's session (log in once for both)."""

from functools import wraps

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from activity.selectors import WINDOWS, series_get, stats_get
from console.charts import HEIGHT, WIDTH, bars
from tenants.authentication import SESSION_KEY_HASH
from tenants.selectors import tenant_get_by_api_key_hash

SERIES = ("ingested", "delivered", "failed")


def console_page(view):
    """The tenant of the session, or the login page; never cached."""

    @never_cache
    @wraps(view)
    def page(request, *args, **kwargs):
        key_hash = request.session.get(SESSION_KEY_HASH)
        principal = tenant_get_by_api_key_hash(key_hash=key_hash) if key_hash else None
        if principal is None:
            return redirect(f"{reverse('rest_framework:login')}?next={request.path}")
        request.principal = principal
        return view(request, *args, **kwargs)

    return page


@console_page
def overview(request):
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
