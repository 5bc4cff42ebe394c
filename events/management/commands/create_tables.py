from triggerapi.commands import StoreCommand
from triggerapi.tables import tables_create


class Command(StoreCommand):
    help = "Create the DynamoDB tables, their indexes and TTL if missing (safe to run again)."

    def handle(self, *args, **options):
        for table in tables_create():
            ttl = f", TTL on {table.ttl_attribute}" if table.ttl_attribute else ""
            verb = "created" if table.created else "already exists"
            self.stdout.write(f"{table.name}: {verb}{ttl}")
