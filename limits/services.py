"""Setting a tenant's own limits (`manage.py set_limits`)."""

from rest_framework.exceptions import ValidationError

from limits.models import LIMITS_KEY, TenantLimits
from limits.selectors import LIMIT_NAMES, Limits, tenant_limits, tenant_limits_forget
from triggerapi import writes
from triggerapi.store import now_ms

# Each limit's allowed range: a limit of 0 would lock a tenant out, which is revoking its
# keys' job, not this one's.
BOUNDS = {
    "rate": (1, 100_000),
    "burst": (1, 1_000_000),
    "waiting_claims": (1, 10_000),
    "deliveries_per_second": (1, 10_000),
}


def tenant_limits_set(*, tenant_id: str, changes: dict[str, int], reset: bool = False) -> Limits:
    """Sets the named limits (others keep their value); `reset` first drops every own value,
    so the tenant goes back to the defaults. One write, conditional on nothing: the last
    operator to set a value wins, as with any setting."""
    errors = {
        name: [f"{name} must be {low} to {high}."]
        for name, value in changes.items()
        for low, high in [BOUNDS[name]]
        if not low <= value <= high
    }
    if errors:
        raise ValidationError(errors)
    actions = [TenantLimits.updated_at.set(now_ms())]
    for name in LIMIT_NAMES:
        attribute = getattr(TenantLimits, name)
        if name in changes:
            actions.append(attribute.set(changes[name]))
        elif reset:
            actions.append(attribute.remove())
    writes.update(TenantLimits, tenant_id, LIMITS_KEY, actions=actions, condition=None, token=writes.new_token())
    tenant_limits_forget(tenant_id=tenant_id)
    return tenant_limits(tenant_id=tenant_id)
