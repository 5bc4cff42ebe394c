from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.decorators import api_view, authentication_classes, permission_classes, renderer_classes, schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from browser.forms import ApiKeyLoginForm
from browser.renderers import IndexPageRenderer
from triggerapi.http_methods import require_methods

# What the index links to: (label, URL name).
INDEX_LINKS = (
    ("docs", "swagger-ui"),
    ("schema", "schema"),
    ("events", "event-list"),
    ("hooks", "hook-list"),
    ("login", "rest_framework:login"),
    ("health", "health"),
    ("ready", "health-ready"),
)
HOW_TO_AUTHENTICATE = "Send your API key as 'Authorization: Bearer <api key>' on every /v1 request."


@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([])
@renderer_classes([JSONRenderer, IndexPageRenderer])
@schema(None)
def index(request):
    """`/` and `/v1/` are where a newcomer starts, so they say where everything is: JSON for
    programs, a page of links for a browser (Accept: text/html). Not part of the contract,
    so not in the schema."""
    links = {label: request.build_absolute_uri(reverse(name)) for label, name in INDEX_LINKS}
    return Response({"name": "triggerapi", "authentication": HOW_TO_AUTHENTICATE, "links": links})


def _next_url(request) -> str:
    """Where to go after logging in or out: the page that sent us, if it is on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("event-list")


@sensitive_post_parameters("api_key")
@never_cache
@require_methods("GET", "POST")
def login(request):
    """A browser has no Authorization header to send, so it logs in once with its key and
    then carries a session cookie; the session itself is kept in DynamoDB (browser.sessions)."""
    form = ApiKeyLoginForm(request.POST if request.method == "POST" else None)
    if form.logged_in(request):
        return redirect(_next_url(request))
    return render(request, "browser/login.html", {"form": form, "next": _next_url(request)})


@never_cache
@require_methods("POST")
def logout(request):
    """Deletes the session from the store, so a copy of the cookie stops working too."""
    request.session.flush()
    return redirect(f"{reverse('rest_framework:login')}?{urlencode({'next': _next_url(request)})}")
