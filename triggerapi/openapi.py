"""What the OpenAPI schema says about every operation: the error envelope and its codes,
and the headers every response carries. Operations name their own errors with `responses`."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from triggerapi.exceptions import INTERNAL_ERROR, IdempotencyKeyReused, LengthRequired, ServiceUnavailable, envelope
from triggerapi.headers import API_CACHE_CONTROL

# The Bearer scheme, registered with drf-spectacular (an extension registers when its module is
# imported): here, where the schema is made, not in an app's ready(), so that a function that
# never draws the schema (the delivery functions) does not import drf-spectacular at start-up.
from tenants import openapi as _bearer  # noqa: E402, F401  isort: skip

# Each status the API answers with, the contract's codes for it, and a typical message.
ERRORS = {
    400: [
        (
            "validation_error",
            "Invalid request: limit: Ensure this value is less than or equal to 100.",
            {"limit": ["Ensure this value is less than or equal to 100."]},
        ),
        ("malformed_json", "The request body is not valid JSON: Expecting value: line 1 column 1 (char 0).", {}),
    ],
    401: [("authentication_failed", "Unknown or revoked API key.", {})],
    403: [("permission_denied", "This API key does not have the 'consume' scope.", {})],
    404: [("not_found", "Event evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W not found.", {})],
    405: [("method_not_allowed", 'Method "PUT" not allowed.', {})],
    409: [("conflict", "Event evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W is delivered; only failed events can be retried.", {})],
    411: [("length_required", LengthRequired.default_detail, {})],
    413: [("payload_too_large", "The request body is 300000 bytes; the limit is 262144.", {})],
    415: [("unsupported_media_type", "Send the body as Content-Type: application/json.", {})],
    422: [("idempotency_key_reused", IdempotencyKeyReused.default_detail, {})],
    429: [
        (
            "rate_limited",
            "Too many requests: this tenant may make 100 requests a second, 200 at once. Retry in 1 s.",
            {"limit": "requests"},
        )
    ],
    500: [("internal_error", INTERNAL_ERROR, {})],
    503: [("service_unavailable", ServiceUnavailable.default_detail, {})],
}
ERROR_CODES = [code for examples in ERRORS.values() for code, _, _ in examples] + ["not_acceptable"]

# What every operation behind a key can answer, besides its own errors.
AUTHENTICATED_ERRORS = (401, 403, 429, 500, 503)


class AutoSchema(openapi.AutoSchema):
    def _is_list_view(self, serializer=None) -> bool:
        """drf-spectacular takes a `list` action to answer a bare array; no endpoint here
        does: a list comes in an object, with its cursor."""
        return False


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODES, help_text="Stable and machine-readable; switch on this.")
    message = serializers.CharField(help_text="For people; may change.")
    details = serializers.DictField(help_text="The offending fields for validation_error; otherwise usually empty.")


class ErrorSerializer(serializers.Serializer):
    """Every error, whatever its status, has this shape."""

    error = ErrorBodySerializer()


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(
            ErrorSerializer,
            description=", ".join(code for code, _, _ in ERRORS[status]),
            examples=[
                OpenApiExample(code, value=envelope(code, message, details), status_codes=[status], response_only=True)
                for code, message, details in ERRORS[status]
            ],
        )
        for status in statuses
    }


def api_responses(ok: dict, *statuses: int) -> dict:
    """The success responses, the operation's own errors, and those every keyed call can get."""
    return {**ok, **error_responses(*sorted(set(statuses) | set(AUTHENTICATED_ERRORS)))}


def strip_trailing_slash(endpoints):
    """The router accepts paths with or without a trailing slash; the contract writes none."""
    return [(path.rstrip("/") or "/", regex, method, view) for path, regex, method, view in endpoints]


COMMON_HEADERS = {
    "X-Request-ID": {
        "description": "Echoes the request's X-Request-ID if it was 1-128 of [A-Za-z0-9._:-]; generated otherwise. "
        "Every log line about the request names it.",
        "required": True,
        "schema": {"type": "string"},
    },
}
# Every /v1/ answer (triggerapi/headers.py).
API_HEADERS = {
    "Cache-Control": {
        "description": "Always `no-store`: payloads and hook secrets must not be kept by caches.",
        "required": True,
        "schema": {"type": "string", "enum": [API_CACHE_CONTROL]},
    }
}
# On every answer to an authenticated request (limits/requests.py): not on a 401.
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The tenant\'s request rate (IETF draft): `"tenant";q=<burst>;w=<seconds a full burst takes '
        "to come back>`.",
        "required": False,
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'Where the tenant stands: `"tenant";r=<requests left, approximate>;t=<seconds until the '
        "whole burst is back>`.",
        "required": False,
        "schema": {"type": "string"},
    },
}
STATUS_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "Always `Bearer`.",
            "required": True,
            "schema": {"type": "string", "enum": ["Bearer"]},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Whole seconds until a retry would be accepted (at least 1).",
            "required": True,
            "schema": {"type": "integer"},
        }
    },
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": {"type": "integer"},
        }
    },
}


def add_common_headers(result, generator, request, public):
    """X-Request-ID on every request and response, the rate limit's on every answer to a key,
    and the headers some statuses always carry."""
    components = result.setdefault("components", {})
    components.setdefault("parameters", {})["RequestId"] = {
        "name": "X-Request-ID",
        "in": "header",
        "required": False,
        "description": "Your id for this request (1-128 of A-Z a-z 0-9 . _ : -), echoed in the response and "
        "the logs; any other value is replaced by a generated id.",
        "schema": {"type": "string"},
    }
    for path, operations in result["paths"].items():
        common = {**COMMON_HEADERS, **(API_HEADERS if path.startswith("/v1") else {})}
        for operation in operations.values():
            operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/RequestId"})
            keyed = bool(operation.get("security"))
            for status, response in operation["responses"].items():
                rate = RATE_LIMIT_HEADERS if keyed and status != "401" else {}
                response.setdefault("headers", {}).update({**common, **rate, **STATUS_HEADERS.get(status, {})})
    return result
