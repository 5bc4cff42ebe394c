"""The envelope for every error, including DRF's and Django's own, and X-Request-ID."""

import logging

import pytest
from rest_framework.test import APIClient

from browser.models import BrowserSession
from events import selectors
from tests.store_hooks import store_calls, store_failing
from triggerapi.tables import table_models, tables_create


def test_health_needs_no_key():
    response = APIClient().get("/health")

    assert (response.status_code, response.json()) == (200, {"status": "healthy"})


def test_ready_is_200_when_the_store_answers():
    response = APIClient().get("/health/ready")

    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_ready_is_503_when_the_store_does_not_answer():
    with store_failing("InternalServerError"):
        response = APIClient().get("/health/ready")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "1"


def test_ready_is_503_when_a_table_is_missing():
    BrowserSession.delete_table()

    response = APIClient().get("/health/ready")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def test_ready_names_the_table_that_failed_and_never_the_stores_own_error_text(caplog):
    BrowserSession.delete_table()

    response = APIClient().get("/health/ready")

    assert response.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "Not ready: the table Test-Sessions cannot be read.",
            "details": {"check": "Test-Sessions"},
        }
    }
    assert "ResourceNotFoundException" in caplog.text  # the log has what the answer leaves out


def test_ready_reads_every_table_the_apps_declare_and_is_503_without_any_one():
    with store_calls() as calls:
        assert APIClient().get("/health/ready").status_code == 200
    assert dict(calls) == {"GetItem": len(table_models())}

    for model in table_models():
        model.delete_table()

        assert APIClient().get("/health/ready").status_code == 503, model.Meta.table_name
        tables_create()


def test_unknown_route_is_a_json_404():
    response = APIClient().get("/v2/nothing-here")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No route for GET /v2/nothing-here.", "details": {}}
    }


def test_disallowed_host_is_a_400_envelope_and_nothing_is_stored(acme):
    response = acme.post("/v1/events", {"a": 1}, format="json", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert acme.get("/v1/events").json()["events"] == []


def test_wrong_method_is_a_405_envelope(acme):
    response = acme.put("/v1/events", {}, format="json")

    assert response.status_code == 405
    assert response.json() == {
        "error": {"code": "method_not_allowed", "message": 'Method "PUT" not allowed.', "details": {}}
    }


def test_throttled_store_is_503_with_retry_after_and_nothing_half_done(acme):
    with store_failing("ProvisionedThroughputExceededException", operations={"PutItem"}):
        response = acme.post("/v1/events", {"a": 1}, format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["details"] == {"write": "not_applied"}
    assert "nothing was written" in error["message"]
    assert acme.get("/v1/events").json()["events"] == []


def test_unreachable_store_on_a_read_is_503(acme, create_event):
    event_id = create_event(acme)

    with store_failing("ServiceUnavailable"):
        response = acme.get(f"/v1/events/{event_id}")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def test_unexpected_error_is_a_logged_500_envelope_without_a_trace(acme, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "event_list", broken)
    with caplog.at_level(logging.ERROR):
        response = acme.get("/v1/events")

    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "Internal server error.", "details": {}}}
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


def test_request_id_is_echoed_when_sent():
    response = APIClient().get("/health", HTTP_X_REQUEST_ID="client-id-123")

    assert response["X-Request-ID"] == "client-id-123"


@pytest.mark.parametrize("path", ["/health", "/v1/events", "/nowhere"])
def test_request_id_is_generated_on_every_response(path):
    response = APIClient().get(path)

    assert len(response["X-Request-ID"]) == 32


def test_unsafe_client_request_id_is_replaced():
    response = APIClient().get("/health", HTTP_X_REQUEST_ID="bad id\twith spaces")

    assert response["X-Request-ID"] != "bad id\twith spaces"
    assert len(response["X-Request-ID"]) == 32


def test_a_very_long_unknown_path_is_not_echoed_whole():
    response = APIClient().get("/" + "x" * 3000)

    assert response.status_code == 404
    assert len(response.json()["error"]["message"]) < 250
