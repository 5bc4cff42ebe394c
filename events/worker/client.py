"""HTTP for one tenant's worker: triggerapi_client.Client (one keep-alive session), with
every failure sorted by what the worker should do next (try later, stop this tenant, or
give up on the request). The worker backs off itself, so the client does not retry."""

from dataclasses import asdict

from triggerapi_client import (
    ApiError,
    AuthenticationFailed,
    Client,
    Conflict,
    NotFound,
    PermissionDenied,
    TransportError,
    ValidationFailed,
)

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30


class TryLater(Exception):
    """The network or the API is struggling (connection error, 5xx, 429): back off, go on."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class KeyRejected(Exception):
    """401/403: this key will not start working by itself; stop serving this tenant."""


class Refused(Exception):
    """Any other 4xx: the worker asked for something the API will never do."""


def _sorted(exc: ApiError, api_url: str) -> Exception:
    if isinstance(exc, TransportError):
        return TryLater(f"cannot connect to {api_url}" if not exc.sent else exc.message)
    if isinstance(exc, AuthenticationFailed | PermissionDenied):
        return KeyRejected(str(exc))
    if exc.status == 429 or exc.status >= 500:
        return TryLater(str(exc), exc.retry_after)
    return Refused(str(exc))


class TenantClient:
    def __init__(self, api_url: str, api_key: str):
        self.api = Client(api_url, api_key, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), retries=0)
        self.api_url = self.api.api_url

    def claim(self, *, limit: int, lease_seconds: int, wait_seconds: float = 0) -> list[dict]:
        """Events as dicts, as handlers take them (with their lease_id)."""
        try:
            events = self.api.claim(limit=limit, lease_seconds=lease_seconds, wait_seconds=wait_seconds)
        except ApiError as exc:
            raise _sorted(exc, self.api_url) from None
        return [asdict(event) for event in events]

    def ack(self, event_ids: list[str]) -> list[str]:
        """Batch ack; returns the ids acknowledged (a deleted event is simply not among them)."""
        try:
            return self.api.ack_many(event_ids).acknowledged
        except ApiError as exc:
            raise _sorted(exc, self.api_url) from None

    def release(self, event_id: str, lease_id: str | None = None, delay_seconds: int = 0) -> None:
        try:
            self.api.release(event_id, lease_id=lease_id, delay_seconds=delay_seconds)
        except (NotFound, Conflict):
            pass  # deleted, delivered or re-claimed meanwhile: nothing to give back.
        except ApiError as exc:
            raise _sorted(exc, self.api_url) from None

    def extend(self, event_id: str, lease_id: str, lease_seconds: int) -> bool:
        """False when the lease is gone or may not run longer (12 h from its claim)."""
        try:
            self.api.extend(event_id, lease_id=lease_id, lease_seconds=lease_seconds)
        except (NotFound, Conflict, ValidationFailed):
            return False
        except ApiError as exc:
            raise _sorted(exc, self.api_url) from None
        return True

    def close(self) -> None:
        self.api.close()
