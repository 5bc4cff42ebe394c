"""What the API answers, as typed values (the shapes of the OpenAPI schema)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    id: str
    created_at: int
    status: str
    payload: dict[str, Any]
    event_type: str | None
    attempts: int
    lease_expires_at: int | None
    delivered_at: int | None
    # When a claim may next hand it out (epoch ms); None unless undelivered.
    available_at: int | None = None
    # Only in the answers of claim and extend: the lease they opened or kept.
    lease_id: str | None = None

    @classmethod
    def from_json(cls, data: dict) -> "Event":
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Receipt:
    id: str
    created_at: int
    status: str
    # True when an Idempotency-Key replayed an earlier request's answer (200, not 201).
    replayed: bool = False


@dataclass(frozen=True)
class Page:
    events: list[Event]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class Acked:
    acknowledged: list[str]
    not_found: list[str]


@dataclass(frozen=True)
class Me:
    tenant_id: str
    key_prefix: str
    scopes: list[str] = field(default_factory=list)
