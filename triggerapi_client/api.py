"""The client: one method per endpoint, one keep-alive session per tenant key."""

import random
import time
from collections.abc import Iterator

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from triggerapi_client.errors import BY_STATUS, ApiError, TransportError
from triggerapi_client.models import Acked, Event, Me, Page, Receipt


def _error(response: requests.Response) -> ApiError:
    try:
        body = response.json()["error"]
        code, message, details = body["code"], body["message"], body.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code, message, details = "http_error", response.reason or "no error body", {}
    try:
        retry_after = max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        retry_after = None
    cls = BY_STATUS.get(response.status_code, ApiError)
    request_id = response.headers.get("X-Request-ID")
    return cls(response.status_code, code, message, details, retry_after=retry_after, request_id=request_id)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request could not even connect, so the API never saw it."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class Client:
    """`Client(api_url, api_key)`. A 429 or 503 is retried after its Retry-After (up to
    `retries` times) when repeating the request is safe: reads, writes the API recognises
    when repeated (ack, extend, claim, release without a lease id, replay, and creates
    with an Idempotency-Key), and any write the 503 says was not applied. Otherwise the
    error is raised: an ApiError subclass with the envelope's code, message and details."""

    def __init__(self, api_url: str, api_key: str, *, timeout: tuple[float, float] = (5.0, 30.0), retries: int = 3):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def me(self) -> Me:
        data = self._call("GET", "/v1/me", repeatable=True).json()
        return Me(tenant_id=data["tenant_id"], key_prefix=data["key"]["prefix"], scopes=data["key"]["scopes"])

    def create_event(self, payload: dict, *, idempotency_key: str | None = None) -> Receipt:
        response = self._ingest("/v1/events", payload, idempotency_key)
        return Receipt(**response.json(), replayed=response.status_code == 200)

    def create_events(self, payloads: list[dict], *, idempotency_key: str | None = None) -> list[Receipt]:
        response = self._ingest("/v1/events/batch", {"events": payloads}, idempotency_key)
        return [Receipt(**r, replayed=response.status_code == 200) for r in response.json()["events"]]

    def get_event(self, event_id: str) -> Event:
        return Event.from_json(self._call("GET", f"/v1/events/{event_id}", repeatable=True).json())

    def list_events(self, *, status=None, event_type=None, order=None, limit=None, cursor=None) -> Page:
        params = {"status": status, "event_type": event_type, "order": order, "limit": limit, "cursor": cursor}
        params = {name: value for name, value in params.items() if value is not None}
        data = self._call("GET", "/v1/events", params=params, repeatable=True).json()
        return Page([Event.from_json(e) for e in data["events"]], data["next_cursor"], data["has_more"])

    def events(self, *, status=None, event_type=None, order=None, page_size: int = 100) -> Iterator[Event]:
        """Every matching event once, following the cursor page by page."""
        cursor = None
        while True:
            page = self.list_events(status=status, event_type=event_type, order=order, limit=page_size, cursor=cursor)
            yield from page.events
            if not page.has_more:
                return
            cursor = page.next_cursor

    def claim(
        self, *, limit: int = 10, lease_seconds: int = 30, event_type: str | None = None, wait_seconds: float = 0
    ) -> list[Event]:
        body: dict = {"limit": limit, "lease_seconds": lease_seconds}
        body |= {"event_type": event_type} if event_type is not None else {}
        body |= {"wait_seconds": wait_seconds} if wait_seconds else {}
        # A long poll answers after up to wait_seconds: the read timeout waits that much longer.
        read_timeout = max(self.timeout[1], wait_seconds + 15)
        data = self._call("POST", "/v1/events/claim", body=body, repeatable=True, read_timeout=read_timeout).json()
        return [Event.from_json(e) for e in data["events"]]

    def ack(self, event_id: str) -> None:
        self._call("POST", f"/v1/events/{event_id}/ack", repeatable=True)

    def ack_many(self, event_ids: list[str]) -> Acked:
        data = self._call("POST", "/v1/events/ack", body={"ids": event_ids}, repeatable=True).json()
        return Acked(data["acknowledged"], data["not_found"])

    def release(self, event_id: str, *, delay_seconds: int = 0, lease_id: str | None = None) -> Event:
        body = {"delay_seconds": delay_seconds, **({"lease_id": lease_id} if lease_id else {})}
        response = self._call("POST", f"/v1/events/{event_id}/release", body=body, repeatable=lease_id is None)
        return Event.from_json(response.json())

    def extend(self, event_id: str, *, lease_id: str, lease_seconds: int = 30) -> Event:
        body = {"lease_id": lease_id, "lease_seconds": lease_seconds}
        return Event.from_json(self._call("POST", f"/v1/events/{event_id}/extend", body=body, repeatable=True).json())

    def retry(self, event_id: str) -> Event:
        return Event.from_json(self._call("POST", f"/v1/events/{event_id}/retry", repeatable=False).json())

    def delete(self, event_id: str) -> None:
        self._call("DELETE", f"/v1/events/{event_id}", repeatable=False)

    def replay(
        self, *, since: int, until: int, event_type: str | None = None, statuses: list[str] | None = None
    ) -> int:
        """Replays every matching event, following the cursor; how many were replayed."""
        body: dict = {"since": since, "until": until}
        body |= {"event_type": event_type} if event_type is not None else {}
        body |= {"statuses": statuses} if statuses is not None else {}
        replayed = 0
        while True:
            data = self._call("POST", "/v1/events/replay", body=body, repeatable=True).json()
            replayed += data["replayed"]
            if not data["next_cursor"]:
                return replayed
            body["cursor"] = data["next_cursor"]

    def _ingest(self, path: str, body, idempotency_key: str | None) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._call("POST", path, body=body, headers=headers, repeatable=idempotency_key is not None)

    def _call(self, method: str, path: str, *, repeatable: bool, read_timeout=None, body=None, **kwargs):
        """One request, repeated as the class docstring says; the response if it is a 2xx."""
        timeout = (self.timeout[0], read_timeout or self.timeout[1])
        if body is not None:
            kwargs["json"] = body
        attempt = 0
        while True:
            try:
                response = self.session.request(method, self.api_url + path, timeout=timeout, **kwargs)
            except requests.RequestException as exc:
                error: ApiError = TransportError(f"{type(exc).__name__}: {exc}", sent=not _never_sent(exc))
                wait = None
            else:
                if response.status_code < 400:
                    return response
                error = _error(response)
                wait = error.retry_after
            if attempt == self.retries or not self._worth_repeating(error, repeatable):
                raise error
            time.sleep(wait if wait is not None else random.uniform(0, 0.5 * 2**attempt))
            attempt += 1

    @staticmethod
    def _worth_repeating(error: ApiError, repeatable: bool) -> bool:
        if isinstance(error, TransportError):
            return repeatable or not error.sent
        if error.status not in (429, 503):
            return False
        return repeatable or error.write == "not_applied"
