"""Reads of hooks and deliveries. Another tenant's hook is simply not found."""

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from events.cursors import cursor_decode, cursor_encode
from events.ids import is_event_id
from hooks.ids import is_hook_id
from hooks.models import ACTIVE, HOOK_PREFIX, Delivery, Hook, event_id_for
from triggerapi import store


@dataclass
class Page:
    items: list
    next_cursor: str | None
    has_more: bool


def hook_get(*, tenant_id: str, hook_id: str) -> Hook | None:
    if not is_hook_id(hook_id):
        return None
    try:
        return store.call(lambda: Hook.get(tenant_id, Hook.key_for(hook_id), consistent_read=True), what="GetItem Hook")
    except DoesNotExist:
        return None


def hooks_list(*, tenant_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    """Oldest first (hook ids sort by creation)."""
    query = {"list": "hooks"}
    after = cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query) if cursor else None

    def read() -> list[Hook]:
        start = {"pk": {"S": tenant_id}, "sk": {"S": after}} if after else None
        return list(
            Hook.query(
                tenant_id,
                Hook.sk.startswith(HOOK_PREFIX),
                consistent_read=True,
                last_evaluated_key=start,
                limit=limit + 1,
                page_size=limit + 1,
            )
        )

    hooks = store.call(read, what="Query hooks")
    has_more = len(hooks) > limit
    hooks = hooks[:limit]
    next_cursor = cursor_encode(tenant_id=tenant_id, query=query, last_event_id=hooks[-1].sk) if has_more else None
    return Page(hooks, next_cursor, has_more)


def hooks_active(*, tenant_id: str) -> list[Hook]:
    """Every active hook of the tenant, read consistently: the fan-out asks once per tenant
    per stream batch, so a hook created before an event is always seen for it."""

    def read() -> list[Hook]:
        return list(
            Hook.query(
                tenant_id,
                Hook.sk.startswith(HOOK_PREFIX),
                filter_condition=Hook.status == ACTIVE,
                consistent_read=True,
            )
        )

    return store.call(read, what="Query active hooks")


def delivery_get(*, tenant_id: str, hook_id: str, delivery_id: str) -> Delivery | None:
    event_id = event_id_for(delivery_id)
    if not delivery_id.startswith("dlv_") or not is_event_id(event_id):
        return None
    try:
        return store.call(
            lambda: Delivery.get(Delivery.pk_for(tenant_id, hook_id), event_id, consistent_read=True),
            what="GetItem Delivery",
        )
    except DoesNotExist:
        return None


def deliveries_list(
    *, tenant_id: str, hook_id: str, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    """Newest first. A status filter applies after DynamoDB's page limit, so filtered reads
    take bigger pages; one event past the page tells, exactly, whether there is more."""
    query = {"hook": hook_id, "status": status}
    after = cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query) if cursor else None
    pk = Delivery.pk_for(tenant_id, hook_id)

    def read() -> list[Delivery]:
        start = {"pk": {"S": pk}, "sk": {"S": after}} if after else None
        return list(
            Delivery.query(
                pk,
                filter_condition=(Delivery.status == status) if status else None,
                scan_index_forward=False,
                consistent_read=True,
                last_evaluated_key=start,
                limit=limit + 1,
                page_size=100 if status else limit + 1,
            )
        )

    deliveries = store.call(read, what="Query deliveries")
    has_more = len(deliveries) > limit
    deliveries = deliveries[:limit]
    next_cursor = (
        cursor_encode(tenant_id=tenant_id, query=query, last_event_id=deliveries[-1].event_id) if has_more else None
    )
    return Page(deliveries, next_cursor, has_more)
