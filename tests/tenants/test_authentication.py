from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings
from rest_framework.test import APIClient

from tenants.services import api_key_revoke
from tests.store_hooks import store_calls


def get_with(authorization: str | None):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get("/v1/events")


def assert_401(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer a b",
        "Basic dXNlcjpwYXNz",
        "Token tk_live_x",
        "Bearer tk_live_short",
        "Bearer tk_live_" + "A" * 43,
        "Bearer sk_live_" + "A" * 43,
    ],
    ids=["missing", "empty", "no-key", "two-parts", "basic", "token-scheme", "short", "unknown", "wrong-prefix"],
)
def test_missing_malformed_or_unknown_key_is_401(authorization):
    assert_401(get_with(authorization))


def test_valid_key_is_accepted_case_insensitively_on_the_scheme(issue_key):
    key = issue_key("acme")

    assert get_with(f"bearer {key}").status_code == 200


def test_revoked_key_is_401_once_the_cache_has_expired(issue_key):
    key = issue_key("acme")
    assert get_with(f"Bearer {key}").status_code == 200

    api_key_revoke(key_or_prefix=key)

    with override_settings(AUTH_CACHE_SECONDS=0):
        assert_401(get_with(f"Bearer {key}"))


def test_revoked_key_is_401_when_it_was_never_cached(issue_key):
    key = issue_key("acme")
    api_key_revoke(key_or_prefix=key)

    assert_401(get_with(f"Bearer {key}"))


def test_ingest_only_key_cannot_list(client_for):
    response = client_for("acme", scopes=("ingest",)).get("/v1/events")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "This API key does not have the 'consume' scope.",
        "details": {},
    }


def test_ingest_only_key_can_create(client_for):
    assert client_for("acme", scopes=("ingest",)).post("/v1/events", {"a": 1}, format="json").status_code == 201


def test_consume_only_key_cannot_create(client_for):
    response = client_for("acme", scopes=("consume",)).post("/v1/events", {"a": 1}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_warm_key_cache_makes_no_key_lookup(issue_key):
    key = issue_key("acme")
    get_with(f"Bearer {key}")

    with store_calls() as calls:
        get_with(f"Bearer {key}")

    assert calls["GetItem"] == 0


def test_cold_key_cache_makes_one_key_lookup(issue_key):
    key = issue_key("acme")

    with store_calls() as calls:
        get_with(f"Bearer {key}")

    assert calls["GetItem"] == 1


def test_an_unknown_key_sent_again_is_refused_from_the_cache_without_a_store_read():
    unknown = "Bearer tk_live_" + "U" * 43

    with store_calls() as first:
        assert_401(get_with(unknown))
    with store_calls() as again:
        for _ in range(5):
            assert_401(get_with(unknown))

    assert (dict(first), dict(again)) == ({"GetItem": 1}, {})


def test_an_unknown_key_is_read_again_once_the_cache_time_has_passed():
    unknown = "Bearer tk_live_" + "U" * 43
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        assert_401(get_with(unknown))
        clock.shift(61)

        with store_calls() as calls:
            assert_401(get_with(unknown))

    assert dict(calls) == {"GetItem": 1}


@pytest.mark.parametrize(
    "authorization",
    ["Bearer tk_live_short", "Bearer sk_live_" + "A" * 43, "Bearer tk_live_" + "A" * 42 + "!", "Bearer " + "é" * 51],
    ids=["short", "wrong-prefix", "outside-the-alphabet", "not-ascii"],
)
def test_a_malformed_key_is_refused_before_any_store_read(authorization):
    with store_calls() as calls:
        assert_401(get_with(authorization))

    assert dict(calls) == {}


def key_sent_as(how: str, key: str) -> dict:
    return {
        "token-scheme": {"HTTP_AUTHORIZATION": f"Token {key}"},
        "bare": {"HTTP_AUTHORIZATION": key},
        "x-api-key": {"HTTP_X_API_KEY": key},
    }[how]


@pytest.mark.parametrize(
    "how,message",
    [
        (
            "token-scheme",
            "Send the API key as 'Authorization: Bearer <api key>', with the scheme 'Bearer', not 'Token'.",
        ),
        ("bare", "Send the API key as 'Authorization: Bearer <api key>': the word 'Bearer' before the key is missing."),
        ("x-api-key", "Send the API key as 'Authorization: Bearer <api key>'; the X-API-Key header is not read."),
    ],
)
def test_a_good_key_sent_the_wrong_way_is_401_saying_how_to_send_it(issue_key, how, message):
    response = APIClient().get("/v1/events", **key_sent_as(how, issue_key("acme")))

    assert_401(response)
    assert response.json() == {"error": {"code": "authentication_failed", "message": message, "details": {}}}


def test_no_key_at_all_is_401_saying_how_to_send_one():
    response = get_with(None)

    assert_401(response)
    assert response.json()["error"]["message"] == (
        "Authentication credentials were not provided: send the API key as 'Authorization: Bearer <api key>'."
    )


def test_a_credential_of_another_scheme_is_401_saying_that_scheme_is_not_read():
    response = get_with("Basic dXNlcjpwYXNz")

    assert_401(response)
    assert response.json()["error"]["message"] == (
        "Send the API key as 'Authorization: Bearer <api key>'; the 'Basic' scheme is not read."
    )
