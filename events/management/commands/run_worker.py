import os
import signal

from django.core.management.base import BaseCommand, CommandError

from events.lifecycle import MAX_LEASE_SECONDS
from events.serializers import MAX_BATCH_EVENTS
from events.worker import Worker, WorkerOptions, env_list, load_handler, log_event, tenants_from
from events.worker.tenant import (
    BACKOFF_BASE_SECONDS,
    ONCE_MAX_TRIES,
    RETRY_DELAY_BASE_SECONDS,
    RETRY_DELAY_CAP_SECONDS,
)


def _in_range(name: str, low: int, high: int):
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{name} must be {low} to {high}")
        return value

    parse.__name__ = name
    return parse


# Options passed to WorkerOptions under the same name.
WORKER_OPTIONS = (
    "api_url",
    "batch",
    "wait",
    "poll_interval",
    "once",
    "max_events",
    "max_tries",
    "backoff",
    "retry_delay",
)


class Command(BaseCommand):
    help = (
        "Consume each tenant's inbox over HTTP: claim, handle, ack, release on error. "
        "Environment fallbacks: API_URL, API_KEY(S), TENANT_NAME(S), POLL_INTERVAL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--api-url", default=os.environ.get("API_URL", "http://127.0.0.1:8000"))
        parser.add_argument("--api-key", action="append", dest="api_keys", help="repeat for several tenants")
        parser.add_argument(
            "--tenant-name", action="append", dest="tenant_names", help="names for the logs, in key order"
        )
        parser.add_argument("--batch", type=_in_range("batch", 1, MAX_BATCH_EVENTS), default=10, help="claim limit")
        parser.add_argument("--lease", type=_in_range("lease", 1, MAX_LEASE_SECONDS), default=30, help="seconds")
        parser.add_argument(
            "--wait",
            type=_in_range("wait", 0, 20),
            default=20,
            help="seconds each claim waits on the API for events (long polling); 0: poll every --poll-interval",
        )
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=float(os.environ.get("POLL_INTERVAL", 5)),
            help="with --wait 0, seconds to sleep after an empty claim",
        )
        parser.add_argument("--handler", default=None, help="dotted path of a callable taking the event dict")
        parser.add_argument("--once", action="store_true", help="drain what is there, then exit")
        parser.add_argument("--max-events", type=int, default=None)
        parser.add_argument(
            "--max-tries",
            type=_in_range("max-tries", 0, 1000),
            default=None,
            help=f"failed claims in a row before a tenant gives up; default {ONCE_MAX_TRIES} with --once, "
            "never without; 0: never",
        )
        parser.add_argument(
            "--backoff",
            type=float,
            default=BACKOFF_BASE_SECONDS,
            help="seconds to wait after a first failure, doubling (with jitter) up to 30",
        )

        parser.add_argument(
            "--retry-delay",
            type=float,
            default=RETRY_DELAY_BASE_SECONDS,
            help="seconds an event whose handler raised waits before it is claimed again, doubling with each "
            f"attempt up to {RETRY_DELAY_CAP_SECONDS // 60} min; 0: at once",
        )

    def handle(self, *args, **options):
        keys = options["api_keys"] or env_list("API_KEYS", "API_KEY")
        names = options["tenant_names"] or env_list("TENANT_NAMES", "TENANT_NAME")
        if not keys:
            raise CommandError("No API key: pass --api-key (repeatable) or set API_KEYS (comma-separated) or API_KEY.")
        try:
            tenants = tenants_from(keys, names)
            handler = load_handler(options["handler"]) if options["handler"] else log_event
        except (ValueError, ImportError, TypeError) as exc:
            raise CommandError(str(exc)) from None
        worker_options = WorkerOptions(
            lease_seconds=options["lease"],
            **{name: options[name] for name in WORKER_OPTIONS},
        )
        worker = Worker(tenants, worker_options, handler=handler, out=self.stdout)
        self.stdout.write(
            f"Worker for {', '.join(t.name for t in tenants)} on {worker_options.api_url}"
            f"{' (--once)' if worker_options.once else ''}; Ctrl-C stops it cleanly, twice at once."
        )

        def on_signal(signum, frame):
            if worker.stop_event.is_set():
                self.stderr.write("Quitting at once: the leases in hand run out and those events are handed out again.")
                os._exit(130)
            worker.stop()
            if worker_options.claim_wait():
                # On stdout, beside the worker's other lines: an idle worker is silent otherwise.
                self.stdout.write(
                    f"Stopping: finishing what is in hand; a waiting claim ends within {worker_options.wait:g} s. "
                    "Ctrl-C again quits at once."
                )

        previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            stats = worker.run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if any(s.key_rejected or s.gave_up for s in stats):
            raise SystemExit(1)
