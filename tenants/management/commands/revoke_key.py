from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import CommandError

from tenants.services import ApiKeyError, api_key_revoke
from triggerapi.commands import StoreCommand


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


class Command(StoreCommand):
    help = (
        "Revoke a key, given whole or by the prefix list_keys shows. Revoking a revoked key changes "
        "nothing and exits 0. Processes that cached it stop accepting it within AUTH_CACHE_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument("key_or_prefix")

    def handle(self, *args, key_or_prefix: str, **options):
        try:
            record, revoked_now = api_key_revoke(key_or_prefix=key_or_prefix)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        if not revoked_now:
            when = f" on {_when(record.revoked_at)}" if record.revoked_at else ""
            self.stdout.write(
                f"{record.masked} (tenant {record.tenant_id}) was already revoked{when}; nothing changed."
            )
            return
        self.stdout.write(f"Revoked {record.masked} (tenant {record.tenant_id}).")
        self.stdout.write(
            f"Running servers that verified it in the last {settings.AUTH_CACHE_SECONDS} s (AUTH_CACHE_SECONDS) "
            "accept it until their cache runs out."
        )
