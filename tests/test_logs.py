"""One JSON access line per request: request id, tenant, method, the route's pattern (never
the raw path), status, latency and how many store calls the request made (the rate
limiter's counted apart)."""

import json
import logging
import sys

import pytest
from rest_framework.test import APIClient

from triggerapi.logs import JsonFormatter, fields_of


@pytest.fixture
def access_lines(caplog):
    caplog.set_level(logging.INFO, logger="triggerapi.access")
    return lambda: [r for r in caplog.records if r.name == "triggerapi.access"]


def test_a_request_logs_one_line_with_the_route_pattern_tenant_status_and_store_calls(acme, create_event, access_lines):
    event_id = create_event(acme)  # the key is verified and cached: the get is one store call
    before = len(access_lines())

    response = acme.get(f"/v1/events/{event_id}", HTTP_X_REQUEST_ID="req-1")

    [line] = access_lines()[before:]
    assert line.request_id == "req-1" == response["X-Request-ID"]
    assert line.getMessage() == "GET /v1/events/{event_id} 200"
    assert {k: v for k, v in fields_of(line).items() if k not in ("latency_ms", "limiter_calls")} == {
        "tenant": "acme",
        "method": "GET",
        "route": "/v1/events/{event_id}",
        "status": 200,
        "store_calls": 1,
    }
    assert isinstance(fields_of(line)["latency_ms"], float) and fields_of(line)["latency_ms"] > 0
    # The rate limiter's calls, apart: whether this request needed a grant depends on the last.
    assert fields_of(line)["limiter_calls"] in (0, 1)


@pytest.mark.parametrize(
    "path,route",
    [("/", "/"), ("/v1/", "/v1"), ("/health/ready", "/health/ready"), ("/auth/login", "/auth/login")],
)
def test_the_route_is_the_urls_pattern(access_lines, path, route):
    APIClient().get(path)

    assert fields_of(access_lines()[-1])["route"] == route


def test_a_path_that_matches_no_route_is_not_logged(access_lines):
    key_in_path = "tk_live_" + "k" * 43

    APIClient().get(f"/{key_in_path}")

    line = access_lines()[-1]
    assert (fields_of(line)["route"], fields_of(line)["status"], fields_of(line)["tenant"]) == (None, 404, None)
    assert key_in_path not in line.getMessage()


def test_a_request_without_a_key_makes_no_store_call_and_names_no_tenant(access_lines):
    APIClient().get("/v1/events")

    assert {k: fields_of(access_lines()[-1])[k] for k in ("tenant", "status", "store_calls")} == {
        "tenant": None,
        "status": 401,
        "store_calls": 0,
    }


def test_a_request_id_that_is_an_api_key_is_replaced_not_echoed_or_logged(access_lines):
    key = "tk_live_" + "r" * 43

    response = APIClient().get("/health", HTTP_X_REQUEST_ID=key)

    assert response["X-Request-ID"] != key and access_lines()[-1].request_id == response["X-Request-ID"]


def test_the_formatter_writes_one_json_object_a_line_with_the_fields_and_any_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("once",), sys.exc_info())
    record.request_id, record.status = "req-2", 500

    text = JsonFormatter().format(record)

    assert "\n" not in text
    line = json.loads(text)
    assert {k: line[k] for k in ("level", "logger", "request_id", "message", "status")} == {
        "level": "ERROR",
        "logger": "x",
        "request_id": "req-2",
        "message": "failed once",
        "status": 500,
    }
    assert line["exception"].endswith("ValueError: boom")
