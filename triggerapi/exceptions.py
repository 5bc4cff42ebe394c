"""The contract's error envelope, for every error: ours, DRF's and Django's."""

import logging
import math
import sys

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from triggerapi import metrics
from triggerapi.store import is_store_unavailable

logger = logging.getLogger(__name__)


INTERNAL_ERROR = "Internal server error."
# DRF's "Authentication credentials were not provided." names no way out; this says how.
NOT_AUTHENTICATED = (
    "Authentication credentials were not provided: send the API key as 'Authorization: Bearer <api key>'."
)


class MalformedJSON(exceptions.ParseError):
    default_detail = "The request body is not valid JSON."
    default_code = "malformed_json"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource is not in a state that allows this."
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    """503 with Retry-After. On a write, `details.write` says what happened to it:
    `not_applied` (nothing changed), `unknown` (it may have happened) or `partial`."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The event store is unavailable or throttling; retry after the given delay."
    default_code = "service_unavailable"

    def __init__(self, detail=None, *, details: dict | None = None, retry_after: int = 1):
        super().__init__(detail)
        self.details = details or {}
        self.wait = retry_after


class RateLimited(exceptions.APIException):
    """429: a tenant's limit (LIMITS.md), named in `details.limit` (`requests`,
    `waiting_claims`, `hook_test`); `Retry-After` is when a retry would be accepted, in whole
    seconds, at least 1. A refused request changes nothing."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many requests; retry after the given delay."
    default_code = "rate_limited"

    def __init__(self, *, limit: str, retry_after: float, message: str | None = None):
        super().__init__(message)
        self.details = {"limit": limit}
        self.wait = max(1, math.ceil(retry_after))


NOT_APPLIED = "not_applied"
UNKNOWN = "unknown"
PARTIAL = "partial"
WRITE_MESSAGES = {
    NOT_APPLIED: "The event store is unavailable or throttling; nothing was written. Retry after the given delay.",
    UNKNOWN: "The event store did not confirm the write, so it may or may not have happened. Retrying is "
    "safe with the same Idempotency-Key (ingest) or for ack, release, retry and delete; read the event to see.",
}


def write_unavailable(*, maybe_applied: bool, retry_after: int = 1, **details) -> ServiceUnavailable:
    """The 503 for a write that the store did not confirm."""
    write = UNKNOWN if maybe_applied else NOT_APPLIED
    return ServiceUnavailable(WRITE_MESSAGES[write], details={"write": write, **details}, retry_after=retry_after)


def _unavailable(exc: BaseException, request) -> ServiceUnavailable:
    """A store failure that reached the handler: a write says whether it may have happened."""
    logger.warning("Store unavailable: %s", exc)
    is_write = request is not None and request.method not in ("GET", "HEAD", "OPTIONS")
    maybe_applied = getattr(exc, "maybe_applied", True)
    retry_after = getattr(exc, "retry_after", 1)
    if is_write:
        return write_unavailable(maybe_applied=maybe_applied, retry_after=retry_after)
    return ServiceUnavailable(retry_after=retry_after)


# DRF's own exceptions, named as the contract names them.
CODES = {
    exceptions.NotAuthenticated: "authentication_failed",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_json",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "rate_limited",
}


def envelope(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _code_of(exc: exceptions.APIException) -> str:
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return exc.default_code


def _first_problem(detail, path: tuple[str, ...] = ()) -> tuple[str, str]:
    """Where the first validation problem is (`events[2]`) and what it is, for the message."""
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        return _first_problem(value, (*path, f"[{key}]" if str(key).isdigit() else f".{key}"))
    if isinstance(detail, list) and detail:
        return _first_problem(detail[0], path)
    return "".join(path).lstrip("."), str(detail)


def _message_and_details(exc: exceptions.APIException) -> tuple[str, dict]:
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        where, problem = _first_problem(details)
        return f"Invalid request: {where}: {problem}", details
    return str(exc.detail), getattr(exc, "details", {})


def exception_handler(exc, context):
    """DRF's hook: turn any exception raised in a view into the contract's envelope."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif is_store_unavailable(exc):
        exc = _unavailable(exc, context.get("request"))
    if not isinstance(exc, exceptions.APIException):
        logger.error("Unhandled error", exc_info=exc)
        return Response(envelope("internal_error", INTERNAL_ERROR), status=500)
    if type(exc) is exceptions.NotAuthenticated:
        exc.detail = exceptions.ErrorDetail(NOT_AUTHENTICATED, exc.default_code)
    if isinstance(exc, RateLimited):
        _count_refusal(exc, context.get("request"))

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(math.ceil(exc.wait))
    message, details = _message_and_details(exc)
    return Response(envelope(_code_of(exc), message, details), status=exc.status_code, headers=headers)


def _count_refusal(exc: RateLimited, request) -> None:
    """Every 429 a limit answers passes here, whichever service refused."""
    tenant_id = getattr(getattr(request, "user", None), "tenant_id", None)
    if tenant_id is not None:
        metrics.count("RateLimited", tenant=tenant_id, limit=exc.details["limit"])


def json_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(envelope(code, message), status=status_code)


def not_found(request, exception=None, **kwargs):
    path = request.path if len(request.path) <= 200 else request.path[:200] + "…"
    return json_error(404, "not_found", f"No route for {request.method} {path}.")


def bad_request(request, exception=None):
    if isinstance(exception, DisallowedHost):
        return json_error(400, "validation_error", "The Host header names a host this API does not serve.")
    return json_error(400, "validation_error", "Bad request.")


def permission_denied(request, exception=None):
    return json_error(403, "permission_denied", "Permission denied.")


def server_error(request):
    """Django's last resort (outside DRF's views: the login page, the session middleware).
    It runs while the exception is being handled, so a store failure is still a 503."""
    exc = sys.exc_info()[1]
    if exc is not None and is_store_unavailable(exc):
        unavailable = _unavailable(exc, request)
        response = json_error(503, "service_unavailable", str(unavailable.detail))
        response["Retry-After"] = str(unavailable.wait)
        return response
    return json_error(500, "internal_error", INTERNAL_ERROR)


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "This server cannot read a chunked request body; send it with a Content-Length header."
    default_code = "length_required"
