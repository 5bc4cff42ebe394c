"""Security headers on every response, a CSP for the pages, and no CORS."""

import re

import pytest
from rest_framework.test import APIClient

from tests.store_hooks import store_calls
from triggerapi.headers import API_POLICY, NO_CORS, PAGE_POLICY

PAGES = ["/", "/auth/login", "/v1/docs/", "/v1/events"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def cors_headers(response) -> dict:
    return {name: value for name, value in response.items() if name.lower().startswith("access-control-")}


@pytest.mark.parametrize("path", ["/health", "/v1/events", "/nowhere", "/v1/schema/"])
def test_every_response_forbids_sniffing_framing_and_loading_anything(path):
    response = APIClient().get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == API_POLICY
    assert "Strict-Transport-Security" not in response  # plain http locally; Lambda: test_lambda_handler


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_get_the_page_policy_and_carry_no_inline_script(acme, path):
    response = acme.get(path, HTTP_ACCEPT="text/html")
    page = response.content.decode()

    assert (response.status_code, response["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert response["Content-Security-Policy"] == PAGE_POLICY
    assert INLINE_SCRIPT.findall(page) == []
    assert INLINE_HANDLER.findall(page) == []


def test_a_response_to_a_cross_origin_request_carries_no_cors_headers(acme):
    response = acme.get("/v1/events", HTTP_ORIGIN="https://elsewhere.example")

    assert response.status_code == 200
    assert cors_headers(response) == {}


@pytest.mark.parametrize("path", ["/v1/events", "/health"])
def test_a_cors_preflight_is_refused_without_cors_headers_or_a_store_call(path):
    with store_calls() as calls:
        response = APIClient().options(
            path,
            HTTP_ORIGIN="https://elsewhere.example",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
        )

    assert response.status_code == 403
    assert response.json() == {"error": {"code": "permission_denied", "message": NO_CORS, "details": {}}}
    assert cors_headers(response) == {}
    assert calls.total() == 0


def test_options_without_a_preflight_is_answered_as_before(acme):
    response = acme.options("/v1/events")

    assert response.status_code == 200
    assert response.json()["name"] == "Event List"


def api_operations():
    """(url, method) for each method each /v1/ route serves, from the URLconf."""
    from django.urls import reverse

    from tests.tenants.test_permissions import routes

    for name, pattern, callback in routes():
        url = reverse(name, kwargs={group: "evt_0" for group in pattern.regex.groupindex})
        if not (url == "/v1/" or url.startswith("/v1/")):
            continue
        methods = getattr(callback, "actions", None) or {method: None for method in ("get", "post")}
        for method in (*methods, "options"):
            yield pytest.param(url, method, id=f"{method.upper()} {url}")


@pytest.mark.parametrize("url,method", list(api_operations()))
def test_every_v1_answer_says_no_store_with_a_key_without_one_and_without_the_scope(client_for, url, method):
    answers = [
        getattr(client, method)(url)
        for client in (client_for("acme"), client_for("acme", scopes=("ingest",)), APIClient())
    ]

    assert [(response.status_code, response["Cache-Control"]) for response in answers] == [
        (response.status_code, "no-store") for response in answers
    ]


@pytest.mark.parametrize(
    "send",
    [
        lambda client: client.get("/v1/nowhere"),
        lambda client: client.put("/v1/events"),
        lambda client: client.post("/v1/events", "{", content_type="application/json"),
        lambda client: APIClient().get("/v1/events", HTTP_AUTHORIZATION="Bearer tk_live_unknown"),
        lambda client: client.options(
            "/v1/events", HTTP_ORIGIN="https://elsewhere.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
        ),
    ],
    ids=["404", "405", "400", "401", "preflight"],
)
def test_v1_errors_say_no_store_too(acme, send):
    response = send(acme)

    assert response.status_code >= 400
    assert response["Cache-Control"] == "no-store"
