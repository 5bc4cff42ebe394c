"""Reads of hooks and deliveries. Another tenant's hook is simply not found."""

from pynamodb.exceptions import DoesNotExist

from hooks.ids import event_id_of, is_hook_id
from hooks.models import ACTIVE, DELIVERY_STATUS_INDEX, HOOK_PREFIX, Delivery, Hook
from triggerapi import store
from triggerapi.pagination import IndexListing, Listing, Page, index_page_read, page_read


def hook_get(*, tenant_id: str, hook_id: str) -> Hook | None:
    if not is_hook_id(hook_id):
        return None
    try:
        return store.call(lambda: Hook.get(tenant_id, Hook.key_for(hook_id), consistent_read=True), what="GetItem Hook")
    except DoesNotExist:
        return None


def hooks_list(*, tenant_id: str, limit: int = 50, cursor: str | None = None) -> Page[Hook]:
    """Oldest first (hook ids sort by creation)."""
    listing = Listing(Hook, tenant_id, Hook.sk.startswith(HOOK_PREFIX), consistent_read=True)
    return page_read(
        listing, tenant_id=tenant_id, query={"list": "hooks"}, limit=limit, cursor=cursor, what="Query hooks"
    )


def hooks_all(*, tenant_id: str) -> list[Hook]:
    """Every hook of the tenant (at most 100: one page), oldest first."""
    return store.call(
        lambda: list(Hook.query(tenant_id, Hook.sk.startswith(HOOK_PREFIX), consistent_read=True)),
        what="Query hooks",
    )


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
    """None unless the id names a delivery of this hook (hooks.ids.event_id_of)."""
    event_id = event_id_of(delivery_id, hook_id=hook_id)
    if event_id is None:
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
) -> Page[Delivery]:
    """Newest first. A status is a key condition (DELIVERY_STATUS_INDEX)."""
    pk = Delivery.pk_for(tenant_id, hook_id)
    query = {"hook": hook_id, "status": status}
    if status:
        listing = IndexListing(
            Delivery,
            DELIVERY_STATUS_INDEX,
            (pk, status),
            # Read after the index: one whose status changed meanwhile is left out.
            keep=lambda delivery: delivery.status == status,
            scan_index_forward=False,
        )
        return index_page_read(
            listing, tenant_id=tenant_id, query=query, limit=limit, cursor=cursor, what="Query deliveries by status"
        )
    listing = Listing(Delivery, pk, scan_index_forward=False, consistent_read=True)
    return page_read(listing, tenant_id=tenant_id, query=query, limit=limit, cursor=cursor, what="Query deliveries")
