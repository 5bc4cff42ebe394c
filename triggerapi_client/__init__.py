"""A typed Python client for the triggerapi HTTP API. It needs only `requests`, not Django,
so a consumer installs and uses it on its own (pyproject.toml beside this file); the worker
in events/worker/ uses it from the repository.

    from triggerapi_client import Client, NotFound

    with Client("http://127.0.0.1:8000", api_key) as client:
        receipt = client.create_event({"event_type": "order.paid"}, idempotency_key="order-1042")
        for event in client.claim(limit=10, lease_seconds=30, wait_seconds=20):
            ...
            client.ack(event.id)
        for event in client.events(status="delivered"):
            ...
        hook = client.hooks.create("https://example.com/in", event_types=["order.paid"])
        for delivery in client.hooks.iterate_deliveries(hook.id, status="failed"):
            client.hooks.retry_delivery(hook.id, delivery.id)
"""

from triggerapi_client.api import Client
from triggerapi_client.errors import (
    ApiError,
    AuthenticationFailed,
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    TransportError,
    ValidationFailed,
)
from triggerapi_client.hooks import Hooks
from triggerapi_client.models import (
    Acked,
    Attempt,
    CreatedHook,
    Delivery,
    DeliveryPage,
    Event,
    EventStats,
    HistoryEntry,
    HistoryPage,
    Hook,
    HookPage,
    HookStats,
    Key,
    Latency,
    LeasedEvent,
    Me,
    Page,
    Receipt,
    Series,
    Stats,
    TestResult,
)

__all__ = [
    "Stats",
    "Series",
    "Latency",
    "HookStats",
    "HistoryPage",
    "HistoryEntry",
    "EventStats",
    "Acked",
    "ApiError",
    "Attempt",
    "AuthenticationFailed",
    "Client",
    "Conflict",
    "CreatedHook",
    "Delivery",
    "DeliveryPage",
    "Event",
    "Hook",
    "HookPage",
    "Hooks",
    "IdempotencyKeyReused",
    "Key",
    "LeasedEvent",
    "Me",
    "NotFound",
    "Page",
    "PermissionDenied",
    "RateLimited",
    "Receipt",
    "ServiceUnavailable",
    "TestResult",
    "TransportError",
    "ValidationFailed",
]
