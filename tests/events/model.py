"""A plain Python model of the contract (API.md) for one tenant's events: what each call
should answer and how it changes the events. The state machine in test_state_machine.py
drives the API and this model side by side and compares them after every step."""

import json
from dataclasses import dataclass, field

UNDELIVERED, DELIVERED, FAILED = "undelivered", "delivered", "failed"
MAX_LEASE_MS = 12 * 3600 * 1000


@dataclass
class ModelEvent:
    id: str
    created_at: int
    payload: dict
    status: str = UNDELIVERED
    attempts: int = 0
    lease_expires_at: int | None = None
    delivered_at: int | None = None
    # When a claim may next hand it out (creation, lease end, release delay, retry).
    claimable_at: int = 0
    # The current lease (its id is the server's: the model learns it from the claim) and
    # every lease the event has had, for sending stale ones.
    lease_id: str | None = None
    leased_at: int | None = None
    old_leases: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        event_type = self.payload.get("event_type")
        return {
            "id": self.id,
            "created_at": self.created_at,
            "status": self.status,
            "payload": self.payload,
            "event_type": event_type if isinstance(event_type, str) else None,
            "attempts": self.attempts,
            "lease_expires_at": self.lease_expires_at,
            "delivered_at": self.delivered_at,
            "available_at": self.claimable_at if self.status == UNDELIVERED else None,
        }


def fingerprint(kind: str, body) -> str:
    """Bodies are compared as JSON: key order and whitespace do not matter."""
    return kind + json.dumps(body, sort_keys=True)


@dataclass
class TenantModel:
    max_attempts: int
    events: dict[str, ModelEvent] = field(default_factory=dict)
    # Idempotency-Key -> (fingerprint of the request, the receipts it was answered with).
    keys: dict[str, tuple[str, list[dict]]] = field(default_factory=dict)
    # Deleted events: the store keeps each one's tombstone until its TTL.
    tombstones: int = 0

    def expected_ingest(self, kind: str, body, key: str | None) -> tuple[int, list[dict] | None]:
        """201 (new), 200 with the original receipts (answered again), or 422 (key reused)."""
        if key is None or key not in self.keys:
            return 201, None
        known, receipts = self.keys[key]
        return (200, receipts) if known == fingerprint(kind, body) else (422, None)

    def stored(self, kind: str, body, key: str | None, receipts: list[dict], payloads: list[dict]) -> None:
        for receipt, payload in zip(receipts, payloads, strict=True):
            created = receipt["created_at"]
            self.events[receipt["id"]] = ModelEvent(receipt["id"], created, payload, claimable_at=created)
        if key is not None:
            self.keys[key] = (fingerprint(kind, body), receipts)

    def listed(self, status: str | None, event_type: str | None) -> list[str]:
        """With a status, oldest first (an inbox); without, newest first."""
        ids = [
            e.id
            for e in self.events.values()
            if status in (None, e.status) and event_type in (None, e.as_json()["event_type"])
        ]
        return sorted(ids, reverse=status is None)

    def claim(self, now: int, limit: int, lease_seconds: int, event_type: str | None) -> list[str]:
        """Oldest claimable first; one that has used up its attempts fails instead."""
        claimable = sorted(
            (e.claimable_at, e.id)
            for e in self.events.values()
            if e.status == UNDELIVERED and e.claimable_at <= now and event_type in (None, e.as_json()["event_type"])
        )
        claimed = []
        for _, event_id in claimable:
            if len(claimed) == limit:
                break
            event = self.events[event_id]
            if event.attempts >= self.max_attempts:
                self._drop_lease(event)
                event.status = FAILED
                continue
            event.attempts += 1
            event.lease_expires_at = event.claimable_at = now + lease_seconds * 1000
            event.leased_at = now
            claimed.append(event_id)
        return sorted(claimed)

    def leased(self, event_id: str, lease_id: str) -> None:
        """The lease id the server gave a claimed event."""
        event = self.events[event_id]
        if event.lease_id:
            event.old_leases.append(event.lease_id)
        event.lease_id = lease_id

    def _drop_lease(self, event: ModelEvent) -> None:
        if event.lease_id:
            event.old_leases.append(event.lease_id)
        event.lease_id = event.leased_at = event.lease_expires_at = None

    def _holds(self, event: ModelEvent, lease_id: str, now: int) -> bool:
        return event.status == UNDELIVERED and lease_id == event.lease_id and (event.lease_expires_at or 0) > now

    def extend(self, now: int, event_id: str, lease_id: str, lease_seconds: int) -> int:
        event = self.events.get(event_id)
        if event is None:
            return 404
        if not self._holds(event, lease_id, now):
            return 409
        if now + lease_seconds * 1000 > event.leased_at + MAX_LEASE_MS:
            return 400
        event.lease_expires_at = event.claimable_at = now + lease_seconds * 1000
        return 200

    def replay(self, now: int, since: int, until: int) -> int:
        moved = [e for e in self.events.values() if since <= e.created_at < until and e.status in (DELIVERED, FAILED)]
        for event in moved:
            self._drop_lease(event)
            event.status, event.attempts, event.delivered_at, event.claimable_at = UNDELIVERED, 0, None, now
        return len(moved)

    def ack(self, now: int, event_id: str) -> int:
        event = self.events.get(event_id)
        if event is None:
            return 404
        if event.status != DELIVERED:
            self._drop_lease(event)
            event.status, event.delivered_at = DELIVERED, now
        return 200

    def release(self, now: int, event_id: str, delay_seconds: int, lease_id: str | None = None) -> int:
        event = self.events.get(event_id)
        if event is None:
            return 404
        if event.status != UNDELIVERED or (lease_id is not None and not self._holds(event, lease_id, now)):
            return 409
        self._drop_lease(event)
        event.claimable_at = now + delay_seconds * 1000
        return 200

    def retry(self, now: int, event_id: str) -> int:
        event = self.events.get(event_id)
        if event is None:
            return 404
        if event.status != FAILED:
            return 409
        event.status, event.attempts, event.claimable_at = UNDELIVERED, 0, now
        return 200

    def delete(self, event_id: str) -> int:
        if self.events.pop(event_id, None) is None:
            return 404
        self.tombstones += 1
        return 204

    def pages_may_be_short(self, status: str | None, event_type: str | None) -> bool:
        """The one case the contract lets a page be short (has_more still true): deleted
        events, kept until their TTL, ahead of a list that reads them (the unfiltered one)."""
        return self.tombstones > 0 and status is None and event_type is None
