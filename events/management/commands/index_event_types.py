from events.services.backfill import Indexed, events_index_types
from triggerapi.commands import StoreCommand


class Command(StoreCommand):
    help = (
        "Put events stored before the indexes by type existed into them (once per deployment, after "
        "create_tables; safe to stop and run again; reads the whole events table)."
    )

    def handle(self, *args, **options):
        counts = events_index_types(progress=lambda counts: self.stdout.write(_line(counts)))
        self.stdout.write(f"Done. {_line(counts)}")


def _line(counts: Indexed) -> str:
    return (
        f"{counts.scanned} found, {counts.indexed} indexed, {counts.too_long} with a type too long to index, "
        f"{counts.changed} changed meanwhile"
    )
