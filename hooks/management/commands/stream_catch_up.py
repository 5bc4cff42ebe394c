from hooks.catch_up import events_hand_over
from triggerapi.commands import StoreCommand


class Command(StoreCommand):
    help = (
        "Hand the events created in [--since, --until) (epoch ms) to the stream function again: after the "
        "events table's stream was switched (docs/DEPLOY.md), for the events neither stream holds. Safe to run "
        "over events already handed over, and to run again; scans the events table."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=int, required=True, help="Epoch ms: events created at or after this.")
        parser.add_argument("--until", type=int, required=True, help="Epoch ms: events created before this.")

    def handle(self, *args, **options):
        handed, failed = events_hand_over(
            since_ms=options["since"],
            until_ms=options["until"],
            progress=lambda handed: self.stdout.write(f"{handed} handed over"),
        )
        self.stdout.write(
            f"Done. {handed} events handed over" + (f", {failed} to hand over again: run again." if failed else ".")
        )
