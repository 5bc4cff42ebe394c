"""The request rate through the API (limits/requests.py), in process on a stopped clock: one
token per authenticated request, whatever its key or size; the 429's envelope and
Retry-After; the RateLimit headers on every answer to a key; nothing stored when refused;
other tenants untouched; the limiter's store calls counted apart."""

import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

from events import ids
from events.models import Event
from limits.selectors import tenant_limits_forget
from limits.services import tenant_limits_set
from tests.browser.session import csrf_token
from tests.emf import total
from tests.store_hooks import store_calls, store_failing

START = "2026-11-22 12:00:00+00:00"
REFUSAL = "Too many requests: this tenant may make 1 requests a second, 3 at once. Retry in 1 s."


@pytest.fixture(autouse=True)
def clock(time_machine, monkeypatch):
    monkeypatch.setattr(ids, "_last", 0)
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def tiny(client_for):
    """acme at 1 request a second, 3 at once."""
    tenant_limits_set(tenant_id="acme", changes={"rate": 1, "burst": 3})
    return client_for("acme")


def stored(tenant_id: str) -> int:
    return Event.count(tenant_id)


def test_past_its_burst_a_tenant_gets_429_with_the_envelope_and_retry_after(tiny):
    statuses = [tiny.post("/v1/events", {"n": n}, format="json").status_code for n in range(4)]
    refused = tiny.get("/v1/events")

    assert statuses == [201, 201, 201, 429]
    assert (refused.status_code, refused.json(), refused["Retry-After"]) == (
        429,
        {"error": {"code": "rate_limited", "message": REFUSAL, "details": {"limit": "requests"}}},
        "1",
    )


def test_each_429_counts_in_the_operators_metrics_under_its_tenant_and_limit(tiny, emitted):
    statuses = [tiny.post("/v1/events", {"n": n}, format="json").status_code for n in range(5)]

    assert statuses == [201, 201, 201, 429, 429]
    assert total(emitted, "RateLimited", tenant="acme", limit="requests") == 2
    assert total(emitted, "Ingested", tenant="acme") == 3


def test_a_refused_request_stores_nothing(tiny):
    for n in range(3):
        tiny.post("/v1/events", {"n": n}, format="json")

    refused = [
        tiny.post("/v1/events", {"n": 9}, format="json"),
        tiny.post("/v1/events/batch", {"events": [{"n": 10}, {"n": 11}]}, format="json"),
    ]

    assert [response.status_code for response in refused] == [429, 429]
    assert stored("acme") == 3


def test_a_retry_after_its_retry_after_is_taken(tiny, clock):
    for n in range(4):
        tiny.post("/v1/events", {"n": n}, format="json")

    clock.shift(int(tiny.get("/v1/events")["Retry-After"]))

    assert tiny.get("/v1/events").status_code == 200


def test_a_batch_is_one_request_and_a_key_without_the_scope_spends_its_tenants_tokens(tiny, client_for):
    batch = {"events": [{"n": n} for n in range(100)]}
    consume_only = client_for("acme", scopes=("consume",))

    answers = [
        tiny.post("/v1/events/batch", batch, format="json"),
        consume_only.post("/v1/events", {"n": 1}, format="json"),
        tiny.post("/v1/events/batch", batch, format="json"),
        tiny.post("/v1/events/batch", batch, format="json"),
    ]

    assert [response.status_code for response in answers] == [201, 403, 201, 429]


def test_a_tenant_under_its_limit_gets_no_429_while_another_is_refused(tiny, globex):
    for n in range(4):
        tiny.post("/v1/events", {"n": n}, format="json")
    assert tiny.get("/v1/events").status_code == 429

    assert {globex.post("/v1/events", {"n": n}, format="json").status_code for n in range(50)} == {201}


@pytest.mark.parametrize(
    "path, status", [("/v1/events", 200), ("/v1/events/evt_nope", 404), ("/v1/events?limit=0", 400)]
)
def test_every_answer_to_a_key_says_where_its_tenant_stands(tiny, path, status):
    response = tiny.get(path)

    assert (response.status_code, response["RateLimit-Policy"], response["RateLimit"]) == (
        status,
        '"tenant";q=3;w=3',
        '"tenant";r=2;t=1',
    )


def test_the_429_says_none_are_left_and_when_the_bucket_is_full_again(tiny):
    for n in range(3):
        tiny.post("/v1/events", {"n": n}, format="json")

    refused = tiny.get("/v1/events")

    assert (refused.status_code, refused["RateLimit"]) == (429, '"tenant";r=0;t=3')


@pytest.mark.parametrize("path", ["/v1/events", "/health", "/v1/schema/"])
def test_a_request_without_a_key_takes_no_token_and_gets_no_rate_headers(path):
    response = APIClient().get(path)

    assert "RateLimit" not in response and "RateLimit-Policy" not in response


def test_a_browser_logged_in_with_a_key_spends_its_tenants_tokens_and_gets_a_429_page(tiny, issue_key):
    browser, key = Client(enforce_csrf_checks=True), issue_key("acme")
    browser.get("/auth/login")
    browser.post("/auth/login", {"api_key": key, "csrfmiddlewaretoken": csrf_token(browser)})

    pages = [browser.get("/v1/events", HTTP_ACCEPT="text/html") for _ in range(4)]

    assert [page.status_code for page in pages] == [200, 200, 200, 429]
    # The page checks the permissions again for each form it draws: still one token a page.
    assert [page["RateLimit"] for page in pages[:3]] == ['"tenant";r=2;t=1', '"tenant";r=1;t=2', '"tenant";r=0;t=3']
    assert pages[3]["Retry-After"] == "1" and b"Retry in 1 s." in pages[3].content


def test_the_limiters_store_calls_are_counted_apart_from_the_requests_own(tiny, caplog):
    caplog.set_level(logging.INFO, logger="triggerapi.access")
    tiny.get("/v1/me")  # the key is verified and cached

    with store_calls() as calls:
        assert tiny.post("/v1/events", {"n": 1}, format="json").status_code == 201

    line = caplog.records[-1]
    assert (dict(calls), line.store_calls, line.limiter_calls) == ({"PutItem": 1}, 1, 1)


def test_a_request_goes_through_when_the_limiters_store_calls_fail(tiny, caplog):
    tiny.get("/v1/me")  # the key is verified and cached; the limits read
    tenant_limits_forget(tenant_id="acme")
    caplog.set_level(logging.WARNING)

    with store_failing("ProvisionedThroughputExceededException", {"GetItem", "UpdateItem"}):
        answers = [tiny.post("/v1/events", {"n": n}, format="json") for n in range(5)]

    assert [answer.status_code for answer in answers] == [201] * 5
    assert stored("acme") == 5
    warned = [(record.name, record.getMessage()) for record in caplog.records if record.levelno == logging.WARNING]
    assert warned[:2] == [
        ("limits.requests", "Tenant limits unreadable, the defaults apply"),
        ("limits.buckets", "Rate limiter unavailable, letting requests through"),
    ]
