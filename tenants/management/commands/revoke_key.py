from django.core.management.base import CommandError

from tenants.services import ApiKeyError, api_key_revoke
from triggerapi.commands import StoreCommand


class Command(StoreCommand):
    help = (
        "Revoke a key, given whole or by the prefix list_keys shows. "
        "Processes that cached it stop accepting it within AUTH_CACHE_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument("key_or_prefix")

    def handle(self, *args, key_or_prefix: str, **options):
        try:
            record = api_key_revoke(key_or_prefix=key_or_prefix)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Revoked {record.masked} (tenant {record.tenant_id}).")
