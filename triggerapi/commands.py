"""What the management commands that use the store have in common."""

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
