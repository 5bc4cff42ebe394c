"""The OpenAPI schema at /v1/schema/ and Swagger UI at /v1/docs/: valid, complete, and
describing what the code does (every route, the Bearer scheme, errors, headers, cursor)."""

import pytest
from django.core.management import call_command
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.schemas.generators import EndpointEnumerator
from rest_framework.test import APIClient

from triggerapi import exceptions

# The contract's endpoints (API.md), as method and path.
CONTRACT = {
    ("get", "/health"),
    ("get", "/health/ready"),
    ("post", "/v1/events"),
    ("post", "/v1/events/batch"),
    ("get", "/v1/events"),
    ("get", "/v1/events/{event_id}"),
    ("post", "/v1/events/{event_id}/ack"),
    ("post", "/v1/events/ack"),
    ("delete", "/v1/events/{event_id}"),
    ("post", "/v1/events/claim"),
    ("post", "/v1/events/{event_id}/release"),
    ("post", "/v1/events/{event_id}/retry"),
    ("post", "/v1/events/{event_id}/extend"),
    ("post", "/v1/events/replay"),
    ("get", "/v1/me"),
}
# The push-delivery contract's endpoints (HOOKS.md).
HOOKS = {
    ("post", "/v1/hooks"),
    ("get", "/v1/hooks"),
    ("get", "/v1/hooks/{hook_id}"),
    ("patch", "/v1/hooks/{hook_id}"),
    ("delete", "/v1/hooks/{hook_id}"),
    ("post", "/v1/hooks/{hook_id}/rotate-secret"),
    ("post", "/v1/hooks/{hook_id}/test"),
    ("get", "/v1/hooks/{hook_id}/deliveries"),
    ("get", "/v1/hooks/{hook_id}/deliveries/{delivery_id}"),
    ("get", "/v1/hooks/{hook_id}/deliveries/{delivery_id}/attempts"),
    ("post", "/v1/hooks/{hook_id}/deliveries/{delivery_id}/retry"),
}
# What a tenant can see (OBSERVE.md).
OBSERVE = {
    ("get", "/v1/stats"),
    ("get", "/v1/stats/series"),
    ("get", "/v1/events/{event_id}/history"),
}


@pytest.fixture(scope="module")
def schema() -> dict:
    response = APIClient().get("/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_the_schema_passes_drf_spectaculars_validation_with_no_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.0.3\n")


def test_the_served_schema_has_every_route_the_code_serves_and_no_other(schema):
    docs = (SpectacularAPIView, SpectacularSwaggerView)
    served = {
        (method.lower(), path.rstrip("/"))
        for path, method, view in EndpointEnumerator().get_api_endpoints()
        if not issubclass(view.cls, docs)
    }

    assert {(method, path) for method, path, _ in operations(schema)} == served == CONTRACT | HOOKS | OBSERVE


def test_every_v1_operation_takes_the_bearer_key_and_documents_the_auth_errors(schema):
    v1 = [(method, path, op) for method, path, op in operations(schema) if path.startswith("/v1/")]

    assert schema["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tk_live_<43 URL-safe characters>",
            "description": "A tenant's API key. Missing, unknown or revoked: 401 authentication_failed.",
        }
    }
    assert {(method, path) for method, path, op in v1 if op["security"] == [{"bearerAuth": []}]} == (
        CONTRACT | HOOKS | OBSERVE
    ) - {
        ("get", "/health"),
        ("get", "/health/ready"),
    }
    for _, _, op in v1:
        assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["schema"] == {"type": "string", "enum": ["Bearer"]}
        assert {"401", "403", "500", "503"} <= set(op["responses"])


def test_every_error_response_is_the_envelope_and_every_response_carries_x_request_id(schema):
    for _, _, op in operations(schema):
        assert {"$ref": "#/components/parameters/RequestId"} in op["parameters"]
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"]
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_error_codes_in_the_schema_are_every_code_the_api_answers_with(schema):
    handler_codes = set(exceptions.CODES.values())
    own_codes = {
        cls.default_code
        for cls in vars(exceptions).values()
        if isinstance(cls, type) and issubclass(cls, exceptions.exceptions.APIException)
    }

    assert set(schema["components"]["schemas"]["ErrorCodeEnum"]["enum"]) == handler_codes | own_codes | {
        "internal_error"
    }


def test_create_and_batch_take_an_idempotency_key_and_say_when_it_was_reused(schema):
    for path in ("/v1/events", "/v1/events/batch"):
        create = schema["paths"][path]["post"]

        assert [p["name"] for p in create["parameters"] if p.get("in") == "header"] == ["Idempotency-Key"]
        assert create["responses"]["200"]["headers"]["Idempotent-Replayed"]["schema"] == {
            "type": "string",
            "enum": ["true"],
        }
        assert "422" in create["responses"]
    assert "Location" in schema["paths"]["/v1/events"]["post"]["responses"]["201"]["headers"]


def test_the_list_documents_its_filters_and_cursor_and_answers_a_page_object(schema):
    listing = schema["paths"]["/v1/events"]["get"]
    page = schema["components"]["schemas"]["EventPage"]

    assert [p["name"] for p in listing["parameters"] if p.get("in") == "query"] == [
        "cursor",
        "event_type",
        "limit",
        "order",
        "status",
    ]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EventPage"
    }
    assert page["properties"]["next_cursor"]["nullable"] is True
    assert set(page["required"]) == {"events", "next_cursor", "has_more"}


def test_swagger_ui_is_served_from_this_site_with_no_cdn():
    page = APIClient().get("/v1/docs/", HTTP_ACCEPT="text/html")
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"

    assert page.status_code == 200
    assert f'src="{bundle}"' in page.content.decode()
    assert "cdn" not in page.content.decode()
    assert APIClient().get(bundle).status_code == 200


def test_the_schema_states_what_the_code_enforces_and_sends(schema):
    """Each of these was a disagreement between the schema and the code that the fuzzer
    (tests/integration/test_fuzz.py) found."""
    paths, components = schema["paths"], schema["components"]["schemas"]

    assert {name for name, body in components.items() if body.get("additionalProperties") is False} == {
        "AckMany",
        "Claim",
        "Extend",
        "HookCreate",
        "PatchedHookUpdate",
        "Release",
        "Replay",
    }
    assert paths["/v1/events"]["post"]["requestBody"]["required"] is True
    assert "Location" not in paths["/v1/events/batch"]["post"]["responses"]["201"]["headers"]
    assert paths["/v1/events"]["post"]["responses"]["201"]["headers"]["Location"]["required"] is True
    assert all(p["allowEmptyValue"] for p in paths["/v1/events"]["get"]["parameters"] if p.get("in") == "query")
    for _, _, op in operations(schema):
        assert all(response["headers"]["X-Request-ID"]["required"] for response in op["responses"].values())


def test_every_v1_answer_is_documented_as_no_store(schema):
    for _, path, op in operations(schema):
        headers = [response["headers"].get("Cache-Control") for response in op["responses"].values()]
        if path.startswith("/v1"):
            assert all(header and header["schema"]["enum"] == ["no-store"] for header in headers), path
        else:
            assert headers == [None] * len(headers), path
