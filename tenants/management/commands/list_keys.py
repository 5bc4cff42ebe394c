from datetime import UTC, datetime

from tenants.selectors import api_key_list
from triggerapi.commands import StoreCommand
from triggerapi.text import table


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M") if ms else "never"


class Command(StoreCommand):
    help = "List keys (masked): tenant, key, scopes, status, created, last used."

    def add_arguments(self, parser):
        parser.add_argument("tenant", nargs="?")

    def handle(self, *args, tenant: str | None, **options):
        rows = [
            (k.tenant_id, k.masked, ",".join(sorted(k.scopes)), k.status, _when(k.created_at), _when(k.last_used_at))
            for k in api_key_list(tenant_id=tenant)
        ]
        if not rows:
            self.stdout.write("No keys." if not tenant else f"No keys for tenant {tenant}.")
            return
        for line in table(("TENANT", "KEY", "SCOPES", "STATUS", "CREATED (UTC)", "LAST USED (UTC)"), rows):
            self.stdout.write(line)
