import json

from django.core.management.base import CommandError

from tenants.models import SCOPES
from tenants.services import ApiKeyError, api_key_issue
from triggerapi.commands import KeyPrintingCommand


class Command(KeyPrintingCommand):
    help = "Issue an API key for a tenant (created if missing). The key is printed once, last."

    def add_arguments(self, parser):
        parser.add_argument("tenant")
        parser.add_argument(
            "--scopes", default=",".join(SCOPES), help="comma-separated: ingest,consume,hooks (default: all)"
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args, tenant, scopes, as_json: bool, **options):
        try:
            record, key = api_key_issue(
                tenant_id=tenant, scopes=tuple(s.strip() for s in scopes.split(",") if s.strip())
            )
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        scope_list = sorted(record.scopes)
        if as_json:
            self.stdout.write(json.dumps({"tenant": tenant, "key": key, "prefix": record.prefix, "scopes": scope_list}))
            return
        self.stderr.write(f"Issued a key for tenant {tenant} with scopes {','.join(scope_list)}.")
        self.stderr.write("It is shown only this once; the store keeps only its hash.")
        self.stdout.write(key)
