from django.conf import settings

from tenants.scopes_migration import hooks_scope_migrate
from triggerapi.commands import StoreCommand


class Command(StoreCommand):
    help = (
        "One-time migration (docs/DEPLOY.md): active keys issued before the hooks scope existed that hold "
        "consume gain hooks, so the subscriptions they manage keep working. Changes each key once; safe to run again."
    )

    def handle(self, *args, **options):
        migrated = hooks_scope_migrate()
        if not migrated.granted and not migrated.marked:
            self.stdout.write("Every active key was issued knowing the hooks scope: nothing changed.")
            return
        if migrated.granted:
            self.stdout.write(f"Gave the hooks scope to {len(migrated.granted)} key(s) holding consume:")
            for key in migrated.granted:
                self.stdout.write(f"  {key.tenant_id:<16} {key.masked}")
        if migrated.marked:
            self.stdout.write(f"Marked {len(migrated.marked)} key(s) without consume as migrated, scopes unchanged.")
        self.stdout.write(
            f"Running servers see the new scopes within {settings.AUTH_CACHE_SECONDS} s (AUTH_CACHE_SECONDS). "
            "Keys issued from now on are never changed by this migration."
        )
