"""The API's error envelope as exceptions: `except NotFound`, or switch on `error.code`."""


class ApiError(Exception):
    """`{"error": {"code", "message", "details"}}`, with the HTTP status, the Retry-After the
    API sent (seconds, or None) and the request id to quote when asking about it."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None, **extra):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details or {}
        self.retry_after: float | None = extra.get("retry_after")
        self.request_id: str | None = extra.get("request_id")

    @property
    def write(self) -> str | None:
        """On a 503 to a write: "not_applied", "unknown" or "partial" (the README's
        "Failure behaviour")."""
        return self.details.get("write")


class ValidationFailed(ApiError):
    """400: malformed JSON or a field the API refuses; `details` names it."""


class AuthenticationFailed(ApiError):
    """401: no key, or an unknown or revoked one."""


class PermissionDenied(ApiError):
    """403: the key lacks the scope."""


class NotFound(ApiError):
    """404: no such event, hook or delivery for this tenant (another tenant's looks the same)."""


class Conflict(ApiError):
    """409: the event, hook or delivery is not in a state that allows this (a lease that is
    gone, a disabled hook, a delivery that has not failed)."""


class IdempotencyKeyReused(ApiError):
    """422: the Idempotency-Key was used with another body."""


class RateLimited(ApiError):
    """429."""


class ServiceUnavailable(ApiError):
    """503: the store is throttling or unreachable; see `write` and `retry_after`."""


class TransportError(ApiError):
    """No HTTP answer at all (connection refused, reset, timeout): status 0."""

    def __init__(self, message: str, *, sent: bool):
        super().__init__(0, "transport_error", message)
        # False only when the request certainly never reached the API (it could not connect).
        self.sent = sent


BY_STATUS = {
    400: ValidationFailed,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: IdempotencyKeyReused,
    429: RateLimited,
    503: ServiceUnavailable,
}
