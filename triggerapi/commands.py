"""What the management commands that use the store have in common."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from triggerapi.store_errors import store_error_message


class StoreCommand(BaseCommand):
    """A command that reads or writes the store. A store that does not answer, or refuses
    or lacks credentials, is one line on stderr and exit status 1 (a CommandError), not a
    75-line traceback; `--traceback` still shows it. Anything else is a bug and keeps its
    traceback."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandError:
            raise
        except Exception as exc:
            message = store_error_message(exc)
            if message is None:
                raise
            raise CommandError(message) from exc


KEYS_NOT_ON_LAMBDA = (
    "Refusing to issue API keys on Lambda: this command's output goes to the function's CloudWatch log, "
    "and the keys with it. Issue them from your machine against the production tables instead "
    "(docs/DEPLOY.md, 'Issuing API keys')."
)


class KeyPrintingCommand(StoreCommand):
    """A command that prints new API keys, which must never reach a log. On Lambda
    (`zappa manage`) the output is the function's CloudWatch log, so there it refuses
    before issuing anything."""

    def execute(self, *args, **options):
        if settings.IS_LAMBDA:
            raise CommandError(KEYS_NOT_ON_LAMBDA)
        return super().execute(*args, **options)
