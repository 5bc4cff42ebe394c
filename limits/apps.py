from django.apps import AppConfig


class LimitsConfig(AppConfig):
    """Tenant limits and fairness (each tenant's own limits, the request rate, waiting
    claims, webhook calls made inside a request): what one tenant may take of what all
    tenants share."""

    name = "limits"

    def ready(self):
        from limits.models import Bucket, HookCalls, TenantLimits, WaitingClaims
        from triggerapi.tables import Table

        # TenantLimits' definition creates the table the others share.
        self.tables = (Table(TenantLimits, others=(Bucket, WaitingClaims, HookCalls)),)
