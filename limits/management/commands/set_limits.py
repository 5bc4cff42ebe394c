from django.core.management.base import CommandError
from rest_framework.exceptions import ValidationError

from limits.selectors import LIMIT_NAMES, tenant_limits, tenant_limits_own
from limits.services import tenant_limits_set
from tenants.keys import TENANT_ID_RE
from triggerapi.commands import StoreCommand


class Command(StoreCommand):
    help = (
        "A tenant's own limits (requests per second, burst, waiting claims, webhook attempts per second); "
        "alone, prints what applies. A change applies everywhere within a minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("tenant")
        parser.add_argument("--rate", type=int, help="requests per second (token bucket rate)")
        parser.add_argument("--burst", type=int, help="requests at once (bucket size)")
        parser.add_argument("--waiting-claims", type=int, help="claims waiting at once (wait_seconds > 0)")
        parser.add_argument("--deliveries-per-second", type=int, help="webhook attempts started per second")
        parser.add_argument("--reset", action="store_true", help="back to the defaults (before any value given)")

    def handle(self, *args, tenant: str, reset: bool, **options):
        if not TENANT_ID_RE.match(tenant):
            raise CommandError("Tenant ids are 1-63 characters: lowercase letters, digits, '-' and '_'.")
        changes = {name: options[name] for name in LIMIT_NAMES if options.get(name) is not None}
        if changes or reset:
            try:
                tenant_limits_set(tenant_id=tenant, changes=changes, reset=reset)
            except ValidationError as exc:
                raise CommandError(" ".join(m for messages in exc.detail.values() for m in messages)) from None
        own = tenant_limits_own(tenant_id=tenant)
        applied = tenant_limits(tenant_id=tenant)
        self.stdout.write(f"Limits of {tenant}:")
        for name in LIMIT_NAMES:
            where = "set for this tenant" if name in own else "default"
            self.stdout.write(f"  {name:<22} {getattr(applied, name):>8}  ({where})")
