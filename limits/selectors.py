"""A tenant's limits: its own values where it has them, the settings' defaults otherwise.
Read at most once per LIMITS_CACHE_SECONDS per process, so a change made with set_limits
applies everywhere within that time (LIMITS.md: 60 s) at no store call per request."""

from dataclasses import dataclass, fields

from django.conf import settings
from django.core.cache import cache

from limits.models import LIMITS_KEY, TenantLimits
from triggerapi import store


@dataclass(frozen=True)
class Limits:
    rate: int
    burst: int
    waiting_claims: int
    deliveries_per_second: int

    @classmethod
    def defaults(cls) -> "Limits":
        return cls(
            rate=settings.TENANT_RATE_LIMIT,
            burst=settings.TENANT_RATE_BURST,
            waiting_claims=settings.TENANT_MAX_WAITING_CLAIMS,
            deliveries_per_second=settings.TENANT_DELIVERIES_PER_SECOND,
        )


LIMIT_NAMES = tuple(field.name for field in fields(Limits))


def _cache_key(tenant_id: str) -> str:
    return f"limits:{tenant_id}"


def tenant_limits_own(*, tenant_id: str) -> dict[str, int]:
    """The values set for this tenant alone (no defaults), read from the store."""
    try:
        item = store.call(
            lambda: TenantLimits.get(tenant_id, LIMITS_KEY, consistent_read=True), what="GetItem TenantLimits"
        )
    except TenantLimits.DoesNotExist:
        return {}
    return {name: int(value) for name in LIMIT_NAMES if (value := getattr(item, name)) is not None}


def tenant_limits(*, tenant_id: str) -> Limits:
    """What applies to the tenant now, cached in this process."""
    cached = cache.get(_cache_key(tenant_id))
    if cached is not None:
        return cached
    limits = Limits(**{**vars(Limits.defaults()), **tenant_limits_own(tenant_id=tenant_id)})
    cache.set(_cache_key(tenant_id), limits, settings.LIMITS_CACHE_SECONDS)
    return limits


def tenant_limits_forget(*, tenant_id: str) -> None:
    """Drops this process's copy (the process that changed them sees the change at once)."""
    cache.delete(_cache_key(tenant_id))
