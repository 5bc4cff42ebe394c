"""The client: one method per endpoint, one keep-alive session per tenant key."""

from collections.abc import Iterator
from functools import partial

import requests

from triggerapi_client.hooks import Hooks
from triggerapi_client.models import (
    Acked,
    Event,
    HistoryEntry,
    HistoryPage,
    LeasedEvent,
    Me,
    Page,
    Receipt,
    Series,
    Stats,
)
from triggerapi_client.transport import Transport, every, without_none


class Client(Transport):
    """`Client(api_url, api_key)`; the hooks' endpoints are under `client.hooks`. A 429 or
    503 is retried after its Retry-After (up to `retries` times) when repeating the request
    is safe: reads, writes the API recognises when repeated (ack, extend, claim, release
    without a lease id, replay, creates with an Idempotency-Key, a hook's update), and any
    write the 503 says was not applied. Otherwise the error is raised: an ApiError subclass
    with the envelope's code, message and details."""

    def __init__(self, api_url: str, api_key: str, *, timeout: tuple[float, float] = (5.0, 30.0), retries: int = 3):
        super().__init__(api_url, api_key, timeout=timeout, retries=retries)
        self.hooks = Hooks(self)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def me(self) -> Me:
        return Me.from_json(self.call("GET", "/v1/me", repeatable=True).json())

    def create_event(self, payload: dict, *, idempotency_key: str | None = None) -> Receipt:
        response = self._ingest("/v1/events", payload, idempotency_key)
        return Receipt.from_json(response.json(), replayed=response.status_code == 200)

    def create_events(self, payloads: list[dict], *, idempotency_key: str | None = None) -> list[Receipt]:
        response = self._ingest("/v1/events/batch", {"events": payloads}, idempotency_key)
        return [Receipt.from_json(r, replayed=response.status_code == 200) for r in response.json()["events"]]

    def get_event(self, event_id: str) -> Event:
        return Event.from_json(self.call("GET", f"/v1/events/{event_id}", repeatable=True).json())

    def list_events(self, *, status=None, event_type=None, order=None, limit=None, cursor=None) -> Page:
        params = without_none(status=status, event_type=event_type, order=order, limit=limit, cursor=cursor)
        return Page.from_json(self.call("GET", "/v1/events", params=params, repeatable=True).json())

    def events(self, *, status=None, event_type=None, order=None, page_size: int = 100) -> Iterator[Event]:
        """Every matching event once, following the cursor page by page."""
        return every(partial(self.list_events, status=status, event_type=event_type, order=order), "events", page_size)

    def claim(
        self, *, limit: int = 10, lease_seconds: int = 30, event_type: str | None = None, wait_seconds: float = 0
    ) -> list[LeasedEvent]:
        body = without_none(
            limit=limit, lease_seconds=lease_seconds, event_type=event_type, wait_seconds=wait_seconds or None
        )
        # A long poll answers after up to wait_seconds: the read timeout waits that much longer.
        read_timeout = max(self.timeout[1], wait_seconds + 15)
        data = self.call("POST", "/v1/events/claim", body=body, repeatable=True, read_timeout=read_timeout).json()
        return [LeasedEvent.from_json(e) for e in data["events"]]

    def ack(self, event_id: str) -> None:
        self.call("POST", f"/v1/events/{event_id}/ack", repeatable=True)

    def ack_many(self, event_ids: list[str]) -> Acked:
        return Acked.from_json(self.call("POST", "/v1/events/ack", body={"ids": event_ids}, repeatable=True).json())

    def release(self, event_id: str, *, delay_seconds: int = 0, lease_id: str | None = None) -> Event:
        body = without_none(delay_seconds=delay_seconds, lease_id=lease_id or None)
        response = self.call("POST", f"/v1/events/{event_id}/release", body=body, repeatable=lease_id is None)
        return Event.from_json(response.json())

    def extend(self, event_id: str, *, lease_id: str, lease_seconds: int = 30) -> LeasedEvent:
        body = {"lease_id": lease_id, "lease_seconds": lease_seconds}
        response = self.call("POST", f"/v1/events/{event_id}/extend", body=body, repeatable=True)
        return LeasedEvent.from_json(response.json())

    def retry(self, event_id: str) -> Event:
        return Event.from_json(self.call("POST", f"/v1/events/{event_id}/retry", repeatable=False).json())

    def delete(self, event_id: str) -> None:
        self.call("DELETE", f"/v1/events/{event_id}", repeatable=False)

    def replay(
        self, *, since: int, until: int, event_type: str | None = None, statuses: list[str] | None = None
    ) -> int:
        """Replays every matching event, following the cursor; how many were replayed."""
        body = without_none(since=since, until=until, event_type=event_type, statuses=statuses)
        replayed = 0
        while True:
            data = self.call("POST", "/v1/events/replay", body=body, repeatable=True).json()
            replayed += data["replayed"]
            if not data["next_cursor"]:
                return replayed
            body["cursor"] = data["next_cursor"]

    def history(self, event_id: str, *, limit: int | None = None, cursor: str | None = None) -> HistoryPage:
        params = without_none(limit=limit, cursor=cursor)
        return HistoryPage.from_json(
            self.call("GET", f"/v1/events/{event_id}/history", params=params, repeatable=True).json()
        )

    def event_history(self, event_id: str, *, page_size: int = 100) -> Iterator[HistoryEntry]:
        """Everything that happened to the event, oldest first, page by page."""
        return every(partial(self.history, event_id), "history", page_size)

    def stats(self) -> Stats:
        return Stats.from_json(self.call("GET", "/v1/stats", repeatable=True).json())

    def series(self, metric: str, *, window: str = "1h", hook_id: str | None = None) -> Series:
        params = without_none(metric=metric, window=window, hook_id=hook_id)
        return Series.from_json(self.call("GET", "/v1/stats/series", params=params, repeatable=True).json())

    def _ingest(self, path: str, body, idempotency_key: str | None) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("POST", path, body=body, headers=headers, repeatable=idempotency_key is not None)
