"""Logging in to the console with an API key, and out: the browsable API's session (log in
once for both, log out of both), kept in the store (browser/sessions.py)."""

from urllib.parse import urlsplit

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from browser.forms import ApiKeyLoginForm
from console.pages import page
from triggerapi.http_methods import require_methods


@sensitive_post_parameters("api_key")
@require_methods("GET", "POST")
@never_cache
def login(request):
    form = ApiKeyLoginForm(request.POST if request.method == "POST" else None)
    if form.logged_in(request):
        return redirect(_next(request))
    return page(request, "console/login.html", {"form": form, "next": _next(request)})


@require_methods("POST")
@never_cache
def logout(request):
    """The session goes from the store: a copy of its cookie opens nothing more."""
    request.session.flush()
    return redirect("console:login")


def _next(request) -> str:
    """Where to go once logged in: the console page that sent the browser here, or the
    overview (never another site, nor a page outside the console)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    path = urlsplit(candidate).path
    # The console's root with the script prefix (/prod/console/ behind API Gateway's stage),
    # and no step out of it (`..`, an empty segment).
    inside = path.startswith(reverse("console:overview")) and not {"..", "."} & set(path.split("/"))
    if (
        inside
        and "//" not in path
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return reverse("console:overview")
