import json

from django.conf import settings

from tenants.services import Seeded, tenants_seed
from triggerapi.commands import KeyPrintingCommand


class Command(KeyPrintingCommand):
    help = "Create the demo tenants acme, globex and initech with one key each (every scope)."

    def add_arguments(self, parser):
        parser.add_argument("--rotate", action="store_true", help="issue fresh keys and revoke the old ones")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args, rotate: bool, as_json: bool, **options):
        results = tenants_seed(rotate=rotate)
        issued = [s for s in results if s.key]
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "tenants": [{"tenant": s.tenant_id, "key": s.key} for s in issued],
                        "unchanged": [s.tenant_id for s in results if not s.key],
                        "revoked": [{"tenant": s.tenant_id, "key": masked} for s in results for masked in s.revoked],
                    }
                )
            )
            return
        if not issued:
            names = ", ".join(s.tenant_id for s in results)
            self.stdout.write(f"Tenants {names} already have active keys; nothing changed (--rotate issues new ones).")
            return
        self._revoked(results)
        self._keys(results, issued)

    def _revoked(self, results: list[Seeded]) -> None:
        revoked = [f"{s.tenant_id} {masked}" for s in results for masked in s.revoked]
        if revoked:
            self.stdout.write(f"Revoked the previous keys: {', '.join(revoked)}.")
            self.stdout.write(
                f"Running servers that verified one in the last {settings.AUTH_CACHE_SECONDS} s "
                "(AUTH_CACHE_SECONDS) accept it until their cache runs out.\n"
            )

    def _keys(self, results: list[Seeded], issued: list[Seeded]) -> None:
        self.stdout.write("API keys (shown once; the store keeps only their hashes):")
        for s in results:
            self.stdout.write(f"  {s.tenant_id:<8} {s.key or 'unchanged (has an active key)'}")
        self.stdout.write("")
        for s in issued:
            self.stdout.write(f"export {s.tenant_id.upper()}_API_KEY={s.key}")
        self.stdout.write(f"export API_KEYS={','.join(s.key for s in issued)}")
        self.stdout.write(f"export TENANT_NAMES={','.join(s.tenant_id for s in issued)}")
