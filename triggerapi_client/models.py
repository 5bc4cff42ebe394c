"""What the API answers, as typed values: one dataclass per object of the OpenAPI schema,
with the schema's field names (tests/client/test_schema.py holds them to the served
schema). A field the API adds is one line here; answers are read by field name, so a field
the server has and this version does not know is ignored rather than an error."""

from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from typing import Any, Self, get_args, get_origin, get_type_hints

# Marks a field the client adds itself, from the response rather than its body.
CLIENT_SIDE = {"client_side": True}


def _value(kind, value):
    if value is None:
        return None
    if is_dataclass(kind):
        return kind.from_json(value)
    if get_origin(kind) is list and is_dataclass(item := get_args(kind)[0]):
        return [item.from_json(v) for v in value]
    return value


@cache
def _body_fields(cls) -> dict[str, Any]:
    kinds = get_type_hints(cls)
    return {f.name: kinds[f.name] for f in fields(cls) if not f.metadata.get("client_side")}


class Model:
    @classmethod
    def from_json(cls, data: dict, **client_side) -> Self:
        body = {name: _value(kind, data.get(name)) for name, kind in _body_fields(cls).items()}
        return cls(**body, **client_side)


@dataclass(frozen=True)
class Event(Model):
    id: str
    created_at: int
    status: str
    payload: dict[str, Any]
    event_type: str | None
    attempts: int
    lease_expires_at: int | None
    delivered_at: int | None
    # When a claim may next hand it out (epoch ms); None unless undelivered.
    available_at: int | None


@dataclass(frozen=True)
class LeasedEvent(Event):
    """An event as claim and extend answer it: with the lease they opened or kept."""

    lease_id: str


@dataclass(frozen=True)
class Receipt(Model):
    id: str
    created_at: int
    status: str
    # True when an Idempotency-Key replayed an earlier request's answer (200, not 201).
    replayed: bool = field(default=False, metadata=CLIENT_SIDE)


@dataclass(frozen=True)
class Page(Model):
    events: list[Event]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class Acked(Model):
    acknowledged: list[str]
    not_found: list[str]


@dataclass(frozen=True)
class Key(Model):
    prefix: str
    scopes: list[str]


@dataclass(frozen=True)
class Limits(Model):
    """The tenant's limits: its own where an operator set them, else the service's."""

    rate: int
    burst: int
    waiting_claims: int
    deliveries_per_second: int


@dataclass(frozen=True)
class Me(Model):
    tenant_id: str
    key: Key
    limits: Limits

    @property
    def key_prefix(self) -> str:
        return self.key.prefix

    @property
    def scopes(self) -> list[str]:
        return self.key.scopes


@dataclass(frozen=True)
class Hook(Model):
    id: str
    target_url: str
    event_types: list[str]
    description: str | None
    status: str
    # "gone", "failing" or "manual" while disabled; None while active.
    disabled_reason: str | None
    # Attempts per second to this hook (1-1000); None: only the tenant's limits apply.
    rate_limit: int | None
    # The prefix of the key that created it (list_keys shows it).
    created_by: str | None
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class CreatedHook(Hook):
    """A hook as its creation answers it: with the signing secret, shown only then."""

    secret: str


@dataclass(frozen=True)
class HookPage(Model):
    hooks: list[Hook]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class Delivery(Model):
    id: str
    hook_id: str
    event_id: str
    status: str
    attempts: int
    next_attempt_at: int | None
    last_status_code: int | None
    last_error: str | None
    created_at: int
    succeeded_at: int | None


@dataclass(frozen=True)
class Attempt(Model):
    """One attempt of a delivery: `status_code` None and `error` a message when no HTTP
    answer came (or no attempt could be made); `response_body_excerpt` is the first 1 KiB of
    the answer, as text, None when it had none."""

    attempt: int
    started_at: int
    duration_ms: int
    status_code: int | None
    error: str | None
    response_body_excerpt: str | None


@dataclass(frozen=True)
class DeliveryPage(Model):
    deliveries: list[Delivery]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class TestResult(Model):
    """The test event's attempt: `status_code` None and `error` a message when no HTTP
    answer came."""

    __test__ = False  # not a pytest test class, whatever its name

    status_code: int | None
    duration_ms: int
    error: str | None


@dataclass(frozen=True)
class EventStats(Model):
    undelivered: int
    failed: int
    oldest_undelivered_age_ms: int | None
    # by window: "1m", "1h", "24h"
    ingested: dict[str, int]
    delivered: dict[str, int]


@dataclass(frozen=True)
class Latency(Model):
    p50: int | None
    p99: int | None


@dataclass(frozen=True)
class HookStats(Model):
    id: str
    status: str
    pending: int
    # by window: "1h", "24h"
    succeeded: dict[str, int]
    failed: dict[str, int]
    latency_ms: Latency


@dataclass(frozen=True)
class Stats(Model):
    as_of: int
    events: EventStats
    hooks: list[HookStats]


@dataclass(frozen=True)
class Series(Model):
    metric: str
    step_seconds: int
    # [step start (epoch ms), count], oldest first
    points: list[list[int]]


@dataclass(frozen=True)
class HistoryEntry(Model):
    """`what` happened `at` (epoch ms); what else it says (a lease id, an attempt's status
    code) is in `details`."""

    at: int
    what: str
    details: dict[str, Any] = field(default_factory=dict, metadata=CLIENT_SIDE)

    @classmethod
    def from_json(cls, data: dict, **client_side) -> Self:
        rest = {name: value for name, value in data.items() if name not in ("at", "what")}
        return cls(at=data["at"], what=data["what"], details=rest)


@dataclass(frozen=True)
class HistoryPage(Model):
    history: list[HistoryEntry]
    next_cursor: str | None
    has_more: bool
