"""Browser sessions are kept in DynamoDB (browser.sessions): the cookie is only a random id,
and logging out deletes the session, so every copy of the cookie stops working."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.backends.base import UpdateError
from django.core import signing
from django.test import Client

from browser.models import BrowserSession
from browser.sessions import SessionStore
from tenants.keys import hash_key
from tests.browser.session import csrf_token, error
from tests.store_hooks import store_failing
from triggerapi.exceptions import NOT_AUTHENTICATED

# How Django's signed-cookie sessions (the engine used before this one) signed the cookie.
SESSION_SALT = "django.contrib.sessions.backends.signed_cookies"


def test_logging_in_sets_an_httponly_cookie_holding_only_a_random_session_id(browser_for):
    client, key = browser_for("acme")
    cookie = client.cookies["sessionid"]
    stored = BrowserSession.get(hashlib.sha256(cookie.value.encode()).hexdigest())

    assert re.fullmatch(r"[a-z0-9]{32}", cookie.value)
    assert SessionStore().decode(stored.data) == {"api_key_hash": hash_key(key)}
    assert (cookie["httponly"], cookie["samesite"], cookie["max-age"]) == (True, "Lax", 12 * 3600)
    assert [item.key_hash for item in BrowserSession.scan() if item.key_hash == cookie.value] == []


def test_a_copied_session_cookie_stops_working_after_logout(browser_for):
    client, _ = browser_for("acme")
    copy = Client()
    copy.cookies["sessionid"] = client.cookies["sessionid"].value
    assert copy.get("/v1/events", HTTP_ACCEPT="application/json").status_code == 200

    client.post("/auth/logout", {"csrfmiddlewaretoken": csrf_token(client)})

    assert error(copy.get("/v1/events", HTTP_ACCEPT="application/json")) == (
        401,
        {"code": "authentication_failed", "message": NOT_AUTHENTICATED, "details": {}},
    )
    assert list(BrowserSession.scan()) == []


def test_a_request_in_flight_at_logout_cannot_bring_the_session_back():
    session = SessionStore()
    session["api_key_hash"] = "h"
    session.save()
    in_flight = SessionStore(session.session_key)
    assert in_flight["api_key_hash"] == "h"

    session.flush()
    in_flight["touched"] = True

    with pytest.raises(UpdateError):
        in_flight.save()
    assert list(BrowserSession.scan()) == []


def test_a_session_past_its_12_hours_authenticates_nobody_before_dynamodb_deletes_it(browser_for):
    client, _ = browser_for("acme")

    with time_machine.travel(datetime.now(UTC) + timedelta(hours=12, seconds=1)):
        response = client.get("/v1/events", HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert len(list(BrowserSession.scan())) == 1


@pytest.mark.parametrize("how", ["made-up-id", "old-signed-cookie-format"])
def test_a_session_cookie_the_store_did_not_issue_authenticates_nobody(browser_for, issue_key, how):
    client, _ = browser_for("acme")
    client.cookies["sessionid"] = {
        "made-up-id": "a" * 32,
        "old-signed-cookie-format": signing.dumps(
            {"api_key_hash": hash_key(issue_key("globex"))}, salt=SESSION_SALT, serializer=signing.JSONSerializer
        ),
    }[how]

    assert client.get("/v1/events", HTTP_ACCEPT="application/json").status_code == 401


def test_logging_in_while_the_store_is_down_is_a_503_not_a_500(issue_key):
    key = issue_key("acme")
    client = Client(raise_request_exception=False)
    client.get("/auth/login")

    with store_failing("InternalServerError"):
        response = client.post("/auth/login", {"api_key": key})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "1"
