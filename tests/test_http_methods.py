"""Every route in the URLconf, walked rather than listed: HEAD is GET without a body,
OPTIONS never fails, and every 4xx is the contract's envelope, whatever the method."""

from datetime import UTC, datetime

import pytest
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from triggerapi.openapi import ERROR_CODES

EVENT_ID = "EVENT_ID"
# Generated per response (RateLimit: the tokens left after each request): the rest of the
# headers must be the same for HEAD and GET.
PER_RESPONSE = {"X-Request-ID", "Set-Cookie", "RateLimit"}


def walk(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(
                pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            )
        elif pattern.name and pattern.name != "not-found":
            kwargs = {name: EVENT_ID for name in pattern.pattern.regex.groupindex}
            yield reverse(f"{namespace}{pattern.name}", kwargs=kwargs)
        else:
            yield "/no/such/route"


ROUTES = list(walk(get_resolver().url_patterns))


@pytest.fixture(params=["with-key", "without-key"])
def client(request, issue_key, create_event):
    """A client that enforces CSRF as a browser meets it; EVENT_ID in a path names an event."""
    client = APIClient(enforce_csrf_checks=True)
    if request.param == "with-key":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_key('acme')}")
    client.event_id = create_event(APIClient(HTTP_AUTHORIZATION=f"Bearer {issue_key('acme')}"))
    return client


def call(client, method: str, route: str):
    return client.generic(method, route.replace(EVENT_ID, client.event_id), HTTP_ACCEPT="application/json")


def test_the_walk_finds_every_route_of_the_api():
    assert len(ROUTES) == len(set(ROUTES)) == 47
    assert {"/health", "/v1/events", f"/v1/events/{EVENT_ID}", "/v1/docs", "/auth/login", "/console/"} <= set(ROUTES)


def same_headers(response) -> dict:
    """The headers that HEAD and GET must share; an error's length may differ, since its
    message names the method (`Method "HEAD" not allowed.`)."""
    skip = PER_RESPONSE | ({"Content-Length"} if response.status_code >= 400 else set())
    return {name: value for name, value in response.headers.items() if name not in skip}


@pytest.mark.parametrize("route", ROUTES)
def test_head_is_get_without_a_body_with_the_same_status_and_headers(client, route, time_machine):
    # A stopped clock: an answer that tells an age (/v1/stats) is the same length twice.
    time_machine.move_to(datetime.now(UTC), tick=False)
    get, head = call(client, "GET", route), call(client, "HEAD", route)

    assert head.status_code == get.status_code
    assert same_headers(head) == same_headers(get)
    assert head.content == b""
    if get.status_code < 300:
        assert int(head["Content-Length"]) == len(get.content) > 0
    elif get.status_code < 400:  # a redirect (the console's pages without a session)
        assert int(head["Content-Length"]) == len(get.content) == 0


@pytest.mark.parametrize("route", ROUTES)
def test_options_on_every_route_answers_without_a_server_error(client, route):
    response = call(client, "OPTIONS", route)

    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"


def envelope_problems(response) -> list[str]:
    if response["Content-Type"] != "application/json":
        return [f"{response['Content-Type']}: {response.content[:80]!r}"]
    body = response.json()
    error = body.get("error") if set(body) == {"error"} else None
    if not isinstance(error, dict) or set(error) != {"code", "message", "details"}:
        return [f"not the envelope: {body}"]
    problems = [] if error["code"] in ERROR_CODES else [f"unknown code {error['code']}"]
    if not (isinstance(error["message"], str) and isinstance(error["details"], dict)):
        problems.append(f"message or details of the wrong type: {error}")
    return problems


@pytest.mark.parametrize("route", ROUTES)
def test_every_4xx_on_every_route_and_method_is_the_envelope(client, route):
    problems = {}
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = call(client, method, route)
        if response.status_code >= 400:
            problems[method] = envelope_problems(response)
        if response.status_code == 405 and method in response["Allow"]:
            problems[method] = [f"405 but Allow: {response['Allow']}"]

    assert {method: found for method, found in problems.items() if found} == {}
