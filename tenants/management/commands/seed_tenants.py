import json

from tenants.services import tenants_seed
from triggerapi.commands import KeyPrintingCommand


class Command(KeyPrintingCommand):
    help = "Create the demo tenants acme, globex and initech with one key each (both scopes)."

    def add_arguments(self, parser):
        parser.add_argument("--rotate", action="store_true", help="issue fresh keys and revoke the old ones")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args, rotate: bool, as_json: bool, **options):
        results = tenants_seed(rotate=rotate)
        issued = [(tenant, key) for tenant, key in results if key]
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "tenants": [{"tenant": t, "key": k} for t, k in issued],
                        "unchanged": [t for t, k in results if not k],
                    }
                )
            )
            return
        if not issued:
            names = ", ".join(tenant for tenant, _ in results)
            self.stdout.write(f"Tenants {names} already have active keys; nothing changed (--rotate issues new ones).")
            return
        self.stdout.write("API keys (shown once; the store keeps only their hashes):")
        for tenant, key in issued:
            self.stdout.write(f"  {tenant:<8} {key}")
        for tenant, key in results:
            if not key:
                self.stdout.write(f"  {tenant:<8} unchanged (has an active key)")
        self.stdout.write("")
        for tenant, key in issued:
            self.stdout.write(f"export {tenant.upper()}_API_KEY={key}")
        self.stdout.write(f"export API_KEYS={','.join(k for _, k in issued)}")
        self.stdout.write(f"export TENANT_NAMES={','.join(t for t, _ in issued)}")
