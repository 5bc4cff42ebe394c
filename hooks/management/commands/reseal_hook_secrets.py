from django.core.management.base import CommandError

from hooks.rekey import ResealRefused, hook_secrets_reseal
from triggerapi.commands import StoreCommand


class Command(StoreCommand):
    help = (
        "Re-encrypt every hook secret under the current SECRET_KEY (opening them with it or SECRET_KEY_FALLBACKS), "
        "so older keys can leave SECRET_KEY_FALLBACKS (docs/DEPLOY.md, Rotating SECRET_KEY). Safe to run again."
    )

    def handle(self, *args, **options):
        try:
            report = hook_secrets_reseal()
        except ResealRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Resealed the secrets of {report.resealed} hook(s) under the current SECRET_KEY; "
            f"{report.current} already were."
        )
        for hook in report.unreadable:
            self.stderr.write(f"  no key opens the secrets of tenant {hook.tenant_id}'s hook {hook.hook_id}")
        for hook in report.busy:
            self.stderr.write(f"  tenant {hook.tenant_id}'s hook {hook.hook_id} kept changing while this ran")
        if report.unreadable:
            raise CommandError(
                f"{len(report.unreadable)} hook(s) have secrets that neither SECRET_KEY nor SECRET_KEY_FALLBACKS "
                "opens: add the key that sealed them to SECRET_KEY_FALLBACKS and run again. Keep every fallback "
                "until then."
            )
        if report.busy:
            raise CommandError(f"{len(report.busy)} hook(s) kept changing while this ran: run it again.")
        self.stdout.write(
            "Every hook secret, and the secret-key canary, is under the current SECRET_KEY: the keys in "
            "SECRET_KEY_FALLBACKS can now leave every function (docs/DEPLOY.md, Rotating SECRET_KEY)."
        )
