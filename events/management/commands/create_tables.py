from django.core.management.base import CommandError

from triggerapi.commands import StoreCommand
from triggerapi.tables import StreamMismatch, tables_create


class Command(StoreCommand):
    help = "Create the DynamoDB tables, their indexes, TTL and stream if missing (safe to run again)."

    def handle(self, *args, **options):
        try:
            tables = tables_create()
        except StreamMismatch as exc:
            raise CommandError(str(exc)) from None
        for table in tables:
            ttl = f", TTL on {table.ttl_attribute}" if table.ttl_attribute else ""
            verb = "created" if table.created else "already exists"
            stream = f", stream {table.stream_arn}" if table.stream_arn else ""
            # A table it created has its indexes; one that existed may have gained some.
            indexes = (
                "" if table.created or not table.indexes_created else f", added {', '.join(table.indexes_created)}"
            )
            note = f", {table.note}" if table.note else ""
            protected = ", point-in-time recovery and deletion protection on" if table.protected else ""
            self.stdout.write(f"{table.name}: {verb}{ttl}{stream}{indexes}{protected}{note}")
