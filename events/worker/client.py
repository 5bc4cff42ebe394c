"""HTTP for one tenant's worker: one keep-alive session, and every failure sorted by what
the worker should do next (try later, stop this tenant, or give up on the request)."""

import requests

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


def _describe(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.reason}"


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


class TenantClient:
    def __init__(self, api_url: str, api_key: str):
        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})

    def claim(self, *, limit: int, lease_seconds: int) -> list[dict]:
        return self._post("/v1/events/claim", {"limit": limit, "lease_seconds": lease_seconds})["events"]

    def ack(self, event_ids: list[str]) -> list[str]:
        """Batch ack; returns the ids acknowledged (a deleted event is simply not among them)."""
        return self._post("/v1/events/ack", {"ids": event_ids})["acknowledged"]

    def release(self, event_id: str) -> None:
        try:
            self._post(f"/v1/events/{event_id}/release", None)
        except Refused:
            pass  # 404 (deleted) or 409 (delivered meanwhile): nothing to give back.

    def close(self) -> None:
        self.session.close()

    def _post(self, path: str, body: dict | None) -> dict:
        try:
            response = self.session.post(self.api_url + path, json=body, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except requests.ConnectionError:
            raise TryLater(f"cannot connect to {self.api_url}") from None
        except requests.RequestException as exc:
            raise TryLater(f"{type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):
            raise KeyRejected(_describe(response))
        if response.status_code == 429 or response.status_code >= 500:
            raise TryLater(_describe(response), _retry_after(response))
        if response.status_code >= 400:
            raise Refused(_describe(response))
        return response.json()
