"""Logging in to the browsable API with a key: a session cookie, CSRF on writes, and the
Authorization header always taking precedence. Where the session lives: test_session_store."""

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tenants.services import api_key_revoke
from tests.browser.session import csrf_token, error
from triggerapi.exceptions import NOT_AUTHENTICATED


def post_event(client: Client, **headers):
    return client.post("/v1/events", {"from": "browser"}, content_type="application/json", **headers)


def test_login_page_asks_for_an_api_key_and_sets_a_csrf_cookie():
    response = Client().get("/auth/login?next=/v1/events%3Fstatus%3Ddelivered")

    assert response.status_code == 200
    assert b'name="api_key"' in response.content
    assert b'name="next" value="/v1/events?status=delivered"' in response.content
    assert response.cookies["csrftoken"]["httponly"] is True


def test_a_login_post_without_its_csrf_token_is_a_403_envelope():
    response = Client(enforce_csrf_checks=True).post("/auth/login", {"api_key": "tk_live_x"})

    assert error(response) == (
        403,
        {
            "code": "permission_denied",
            "message": "CSRF check failed: CSRF cookie not set. Reload the page and try again.",
            "details": {},
        },
    )


def test_a_logged_in_browser_reads_its_own_tenants_events(browser_for, acme, create_event):
    event_id = create_event(acme)
    client, _ = browser_for("acme")

    response = client.get("/v1/events", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert [event["id"] for event in response.json()["events"]] == [event_id]


def test_a_wrong_key_shows_the_login_page_again_with_an_error_and_no_session():
    client = Client(enforce_csrf_checks=True)
    client.get("/auth/login")

    response = client.post("/auth/login", {"api_key": "tk_live_" + "x" * 43, "csrfmiddlewaretoken": csrf_token(client)})

    assert response.status_code == 200
    assert b"Unknown or revoked API key." in response.content
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("next_url", ["https://evil.example/v1/events", "//evil.example/", "javascript:alert(1)"])
def test_login_only_sends_the_browser_on_to_pages_of_this_site(issue_key, next_url):
    client = Client()

    response = client.post("/auth/login", {"api_key": issue_key("acme"), "next": next_url})

    assert (response.status_code, response["Location"]) == (302, "/v1/events")


def test_login_without_the_csrf_token_is_refused(issue_key):
    response = Client(enforce_csrf_checks=True).post("/auth/login", {"api_key": issue_key("acme")})

    assert response.status_code == 403
    assert "sessionid" not in response.cookies


def test_a_cookie_authenticated_write_without_the_csrf_token_is_403_and_stores_nothing(browser_for):
    client, _ = browser_for("acme")

    response = post_event(client)

    assert error(response) == (
        403,
        {"code": "permission_denied", "message": "CSRF Failed: CSRF token missing.", "details": {}},
    )
    assert client.get("/v1/events", HTTP_ACCEPT="application/json").json()["events"] == []


def test_a_cookie_authenticated_write_with_the_csrf_token_is_201(browser_for):
    client, _ = browser_for("acme")

    response = post_event(client, HTTP_X_CSRFTOKEN=csrf_token(client))

    assert response.status_code == 201
    assert response.json()["status"] == "undelivered"


@pytest.mark.parametrize("authorization", ["Bearer tk_live_" + "x" * 43, "Basic dXNlcjpwYXNz", ""])
def test_an_authorization_header_is_judged_alone_even_beside_a_good_cookie(browser_for, authorization):
    client, _ = browser_for("acme")

    response = client.get("/v1/events", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_header_authenticated_write_acts_for_the_headers_tenant_and_needs_no_csrf_token(
    browser_for, issue_key, globex
):
    client, _ = browser_for("acme")

    response = post_event(client, HTTP_AUTHORIZATION=f"Bearer {issue_key('globex')}")

    assert response.status_code == 201
    assert [event["id"] for event in globex.get("/v1/events").json()["events"]] == [response.json()["id"]]


def test_logging_out_clears_the_cookie_and_ends_the_session(browser_for):
    client, _ = browser_for("acme")

    response = client.post("/auth/logout?next=/v1/events/evt_1", {"csrfmiddlewaretoken": csrf_token(client)})

    assert (response.status_code, response["Location"]) == (302, "/auth/login?next=%2Fv1%2Fevents%2Fevt_1")
    assert response.cookies["sessionid"].value == ""
    assert error(client.get("/v1/events", HTTP_ACCEPT="application/json")) == (
        401,
        {"code": "authentication_failed", "message": NOT_AUTHENTICATED, "details": {}},
    )


def test_logout_takes_only_post(browser_for):
    client, _ = browser_for("acme")

    assert client.get("/auth/logout").status_code == 405
    assert client.get("/v1/events", HTTP_ACCEPT="application/json").status_code == 200


def test_revoking_the_key_ends_its_browser_session(browser_for):
    client, key = browser_for("acme")
    api_key_revoke(key_or_prefix=key)

    with override_settings(AUTH_CACHE_SECONDS=0):
        response = client.get("/v1/events", HTTP_ACCEPT="application/json")

    assert error(response) == (
        401,
        {
            "code": "authentication_failed",
            "message": "The API key this browser logged in with was revoked; log in again.",
            "details": {},
        },
    )


def test_api_calls_with_a_key_get_no_cookies(acme):
    responses = [
        acme.get("/v1/events"),
        acme.post("/v1/events", {"a": 1}, format="json"),
        APIClient().get("/v1/events"),
    ]

    assert [dict(response.cookies) for response in responses] == [{}, {}, {}]


def test_a_post_to_an_unknown_route_is_still_a_json_404_despite_the_csrf_check():
    response = Client(enforce_csrf_checks=True).post("/v2/nothing", {}, content_type="application/json")

    assert error(response) == (
        404,
        {"code": "not_found", "message": "No route for POST /v2/nothing.", "details": {}},
    )
