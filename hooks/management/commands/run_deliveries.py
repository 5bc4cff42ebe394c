"""`manage.py run_deliveries`: push delivery on a development machine, as Lambda does it on
AWS: devstack.stream reads the stream and hands it to hooks.handler (fan-out), while the
dispatcher (hooks/dispatcher.py) makes the attempts on a thread of its own, so reading the
stream never waits on a receiver. Two of them side by side share every cap (the caps are
in the store).

A local-development command: the stream reader is in the development package, which the
Lambda zip leaves out (on AWS the event source mapping reads the stream), so it is imported
when the command runs, never when the app loads, and its absence is said in one line."""

import os
import random
import signal
import threading

from django.core.management.base import CommandError

from hooks import handler as stream_function
from hooks.dispatcher import Dispatcher
from hooks.tally import TALLY
from triggerapi import metrics
from triggerapi.commands import StoreCommand
from triggerapi.store_errors import store_error_message

DEFAULT_POLL_SECONDS = 0.1
# How long the dispatcher waits after a round that started nothing (what fan-out in this
# process makes is offered to it at once).
DISPATCH_IDLE_SECONDS = 0.25
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0


def _poll_seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 60:
        raise ValueError("poll-interval must be more than 0 and at most 60")
    return value


_poll_seconds.__name__ = "poll-interval"


def stream_reader() -> tuple[type, type[Exception]]:
    """(StreamReader, NoStream) from devstack.stream, or the command's error where the
    development package is absent."""
    try:
        from devstack.stream.reader import StreamReader
        from devstack.stream.shards import NoStream
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("devstack"):
            raise
        raise CommandError(
            "run_deliveries is a local-development command and needs the devstack package, which is not here "
            "(the Lambda zip leaves it out: on AWS the event source mapping reads the stream)."
        ) from None
    return StreamReader, NoStream


class Command(StoreCommand):
    help = (
        "Read the events table's DynamoDB stream (shards and iterators, as Lambda's event source does) and hand "
        "the records to the stream function, hooks.handler.handle_stream; also attempt due retries "
        "(hooks.handler.run_due). The stream position is kept in the store across restarts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="hand on what the stream holds, then exit")
        parser.add_argument(
            "--poll-interval",
            type=_poll_seconds,
            default=DEFAULT_POLL_SECONDS,
            help=f"seconds to wait after a read that found nothing (default {DEFAULT_POLL_SECONDS}: a delivery "
            "starts within 1 s of its event)",
        )

    def handle(self, *args, **options):
        self.once = options["once"]
        self.poll_seconds = options["poll_interval"]
        self.stop = threading.Event()
        self.tally_from = self.tally_said = TALLY.copy()
        reader_class, no_stream = stream_reader()
        self.dispatcher = Dispatcher()
        # Fan-out hands the deliveries it creates to this process's dispatcher (their first
        # attempts start at once); the dispatcher's rounds find everything else.
        reader = reader_class(handler=lambda event: stream_function.handle_stream(event, offer=self.dispatcher.offer))

        def on_signal(signum, frame):
            if self.stop.is_set():
                self.stderr.write("Quitting at once: the batch in hand is read again on the next start.")
                os._exit(130)
            self.stop.set()
            self.stderr.write("Stopping: finishing the batch in hand. Ctrl-C again quits at once.")

        previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            # Written every second, and at the end (a second Ctrl-C loses the last second's).
            with metrics.flushing():
                self._open(reader, no_stream)
                if reader.stream_arn is not None:
                    self._say(
                        f"Delivering from {reader.stream_arn}{' (--once)' if self.once else ''}; "
                        "Ctrl-C stops it cleanly, twice at once."
                    )
                    if not self.once:
                        # One reader of the stream among the run_deliveries running (--once reads
                        # what is there whoever else does).
                        from devstack.stream.lease import StreamLease

                        reader.lease = StreamLease(reader._pk())
                    try:
                        self._loop(reader)
                    finally:
                        if reader.lease is not None:
                            reader.lease.release()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        totals = reader.totals
        failing = [shard.shard_id for shard in reader.shards.values() if shard.retry_from]
        self._say(
            f"Stopped: {totals.records} records in {totals.batches} batches handed on ({totals.failed_batches} failed)."
        )
        made = TALLY.since(self.tally_from)
        not_made = sum(made.not_made.values())
        self._say(
            f"Attempts: {made.succeeded} succeeded, {made.failed} failed at their receivers, "
            f"{not_made} could not be made."
        )
        if self.once and failing:
            raise CommandError(
                f"The handler still fails records of {', '.join(failing)}: the next run reads them again."
            )
        if self.once and not_made:
            raise CommandError(
                f"{not_made} attempt{'s' if not_made != 1 else ''} could not be made: "
                + "; ".join(f"{reason} ({count})" for reason, count in made.not_made.items())
            )

    def _open(self, reader, no_stream: type[Exception]) -> None:
        """Finds the stream; a store that does not answer is waited for (not with --once)."""
        failures = 0
        while not self.stop.is_set():
            try:
                reader.open()
                return
            except no_stream as exc:
                raise CommandError(str(exc)) from None
            except Exception as exc:
                failures = self._store_failed(exc, failures)

    def _store_failed(self, exc: Exception, failures: int) -> int:
        """One line, then a wait (doubling, with jitter); with --once, the command's error."""
        message = store_error_message(exc)
        if message is None or self.once:
            raise exc
        failures += 1
        delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (failures - 1)))
        self.stderr.write(f"{message} Trying again in {delay:.1f} s.")
        self.stop.wait(delay)
        return failures

    def _loop(self, reader) -> None:
        dispatcher = self.dispatcher
        if not self.once:
            thread = threading.Thread(target=self._dispatch, args=(dispatcher,), name="dispatcher", daemon=True)
            thread.start()
        failures = 0
        while not self.stop.is_set():
            try:
                batches = reader.poll()
                self._say_reading(reader)
                handed = 0
                for batch in batches:
                    handed += batch.records
                    self._report(batch)
                self._say_not_made()
                if self.once and handed == 0:
                    break
                failures = 0
            except Exception as exc:
                failures = self._store_failed(exc, failures)
                continue
            if handed == 0:
                self.stop.wait(self.poll_seconds)
        if self.once:
            dispatcher.run_until_idle()
        else:
            thread.join()
        self._say_not_made()

    def _dispatch(self, dispatcher) -> None:
        """The dispatcher's thread: rounds until the command stops."""
        dispatcher.run(stop=self.stop, idle_s=DISPATCH_IDLE_SECONDS)

    def _say_reading(self, reader) -> None:
        """A line when this process starts or stops reading the stream (another one reads
        it meanwhile: this one makes attempts only)."""
        if reader.lease is None:
            return
        reading = reader.lease.holding
        if reading != getattr(self, "reading", None):
            self.reading = reading
            self._say(
                "Reading the stream."
                if reading
                else "Another run_deliveries reads the stream: this one makes attempts, and reads it if that one stops."
            )

    def _say(self, line: str) -> None:
        """A line on stdout at once, even into a pipe (make run, tests, a log collector)."""
        self.stdout.write(line)
        self.stdout.flush()

    def _report(self, batch) -> None:
        if not batch.records:
            return
        line = f"{batch.records} record{'s' if batch.records != 1 else ''} from {batch.shard_id}"
        if batch.failed_from is not None:
            line += f"; failed from {batch.failed_from}, read again from there"
        self._say(line)

    def _say_not_made(self) -> None:
        """Attempts that could not be made since the last time it was said, on stderr: no
        receiver can fix them, the operator can (SECRET_KEY_FALLBACKS, the store)."""
        now = TALLY.copy()
        new, self.tally_said = now.since(self.tally_said), now
        for reason, count in new.not_made.items():
            self.stderr.write(f"{count} attempt{'s' if count != 1 else ''} could not be made: {reason}")
