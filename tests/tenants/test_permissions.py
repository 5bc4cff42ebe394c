"""Scopes fail closed: every route behind a key declares the scope it needs and refuses a key
without it; a view that declares no scope is refused for every key; and the routes open
without a key are exactly the intended ones."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from tenants.models import SCOPES
from tenants.permissions import ANY_SCOPE, NO_SCOPE_DECLARED, HasScope, required_scope

# Routes anyone may call, by URL name (the catch-all answers unknown paths with a JSON 404).
PUBLIC = {
    "index",
    "v1-index",
    "health",
    "health-ready",
    "schema",
    "swagger-ui",
    "rest_framework:login",
    "rest_framework:logout",
    "console:login",
    "console:logout",
    "not-found",
}


def routes(patterns=None, namespace=None):
    """(name, pattern, view callback) for every route in the URLconf."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}:{entry.name}" if namespace else entry.name, entry.pattern, entry.callback


def is_keyed(callback) -> bool:
    view_class = getattr(callback, "cls", None)
    return view_class is not None and HasScope in view_class.permission_classes


def keyed_operations():
    """(name, url, method, scope) for each method each keyed route serves."""
    for name, pattern, callback in routes():
        if not is_keyed(callback):
            continue
        url = reverse(name, kwargs={group: "evt_0" for group in pattern.regex.groupindex})
        for method, action in {**(getattr(callback, "actions", None) or {}), "options": "metadata"}.items():
            view = callback.cls()
            view.action = action
            yield pytest.param(name, url, method, required_scope(view), id=f"{method.upper()} {url}")


OPERATIONS = list(keyed_operations())
SCOPED = [op for op in OPERATIONS if op.values[3] != ANY_SCOPE]


def is_session_guarded(callback) -> bool:
    """A console page: the session's key, checked by console.pages.console_page."""
    return getattr(callback, "session_guarded", False)


def test_the_routes_open_without_a_key_are_exactly_the_intended_ones():
    open_routes = {
        name for name, _, callback in routes() if not is_keyed(callback) and not is_session_guarded(callback)
    }
    assert open_routes == PUBLIC


@pytest.mark.parametrize(
    "name, pattern, methods",
    [(name, pattern, callback.methods) for name, pattern, callback in routes() if is_session_guarded(callback)],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_console_page_without_a_session_goes_to_the_login_whatever_the_key(issue_key, name, pattern, methods):
    """An API key in the header opens no console page: the console is the session's."""
    url = reverse(name, kwargs={group: "evt_0" for group in pattern.regex.groupindex})
    keyed = APIClient(HTTP_AUTHORIZATION=f"Bearer {issue_key('acme')}")

    for client, method in ((APIClient(), methods[0]), (keyed, methods[-1])):
        answer = client.generic(method, url)
        back = url if method == "GET" else "/console/"  # a form's target takes no GET after the login
        assert (answer.status_code, answer.headers["Location"]) == (302, f"/console/login?next={back}")


def test_only_who_am_i_is_open_to_a_key_of_any_scope():
    assert {name for name, _, _, scope in (op.values for op in OPERATIONS) if scope == ANY_SCOPE} == {"me"}


@pytest.mark.parametrize("name,url,method,scope", SCOPED)
def test_every_keyed_route_declares_a_known_scope_and_refuses_a_key_without_it(client_for, name, url, method, scope):
    others = tuple(s for s in SCOPES if s != scope)

    response = getattr(client_for("acme", scopes=others), method)(url)

    assert scope in SCOPES
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": f"This API key does not have the '{scope}' scope.",
        "details": {},
    }


@pytest.mark.parametrize("name,url,method,scope", OPERATIONS)
def test_every_keyed_route_refuses_a_request_without_a_key(name, url, method, scope):
    response = getattr(APIClient(), method)(url)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("name,url,method,scope", OPERATIONS)
def test_every_keyed_route_lets_a_key_with_its_scope_past_the_permission_check(client_for, name, url, method, scope):
    response = getattr(client_for("acme", scopes=(SCOPES[0],) if scope == ANY_SCOPE else (scope,)), method)(url)

    assert response.status_code not in (401, 403), response.content


class NoScopeView(APIView):
    def get(self, request):
        return Response({"reached": True})


class PartlyScopedViewSet(viewsets.ViewSet):
    required_scopes = {"list": "consume"}

    def list(self, request):
        return Response({"reached": True})

    def retrieve(self, request, pk=None):
        return Response({"reached": True})


@pytest.mark.parametrize(
    "view,kwargs",
    [(NoScopeView.as_view(), {}), (PartlyScopedViewSet.as_view({"get": "retrieve"}), {"pk": "1"})],
    ids=["view-without-scopes", "action-missing-from-required-scopes"],
)
def test_a_view_that_declares_no_scope_is_refused_for_a_key_with_every_scope(issue_key, view, kwargs):
    request = APIRequestFactory().get("/anything", HTTP_AUTHORIZATION=f"Bearer {issue_key('acme', SCOPES)}")

    response = view(request, **kwargs)
    response.render()

    assert response.status_code == 403
    assert response.data == {"error": {"code": "permission_denied", "message": NO_SCOPE_DECLARED, "details": {}}}
