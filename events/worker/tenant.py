"""One tenant's loop: claim, handle, ack what was handled, release the rest."""

import logging
import random
import threading
import time
from collections.abc import Callable

from events.worker.client import KeyRejected, Refused, TenantClient, TryLater
from events.worker.heartbeat import Heartbeat
from events.worker.report import Reporter, TenantStats
from triggerapi.context import request_id_var

logger = logging.getLogger("triggerapi.worker")

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
RETRY_DELAY_BASE_SECONDS = 5.0
RETRY_DELAY_CAP_SECONDS = 15 * 60
# Acks and releases are retried this many times before the lease is left to run out.
WRITE_ATTEMPTS = 4
# With --once a tenant gives up after this many failed claims in a row (the API is down, or
# the URL is wrong): a one-off run must end. Without --once it keeps trying, as a service does.
ONCE_MAX_TRIES = 5


def backoff(failures: int, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Exponential, capped, with full jitter so many workers don't retry in step."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, base * 2 ** (failures - 1)))


def retry_delay(attempts: int, base: float) -> int:
    """How long an event whose handler raised waits before it is claimed again: `base`
    after the first attempt, doubling with each (5, 10, 20, 40 s by default), at most
    RETRY_DELAY_CAP_SECONDS. A handler failing at once would otherwise spend every attempt
    of the event within a second, before whatever it depends on could come back."""
    return int(min(RETRY_DELAY_CAP_SECONDS, base * 2 ** (attempts - 1)))


class GaveUp(Exception):
    """The API did not answer after the tries allowed (--max-tries)."""


class Budget:
    """--max-events, shared by all tenants: how many more events may be claimed."""

    def __init__(self, total: int | None):
        self.left = total
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        if self.left is None:
            return wanted
        with self._lock:
            granted = min(wanted, self.left)
            self.left -= granted
            return granted

    def give_back(self, count: int) -> None:
        if self.left is not None and count > 0:
            with self._lock:
                self.left += count


class TenantWorker:
    def __init__(
        self,
        *,
        name: str,
        client: TenantClient,
        options,
        stop: threading.Event,
        budget: Budget,
        reporter: Reporter,
        handler: Callable[[dict], object],
    ):
        self.client, self.options, self.stop = client, options, stop
        self.budget, self.reporter, self.handler = budget, reporter, handler
        self.stats = TenantStats(name)
        self.failures = 0

    def run(self) -> TenantStats:
        # Log lines written on this thread (the handler's too) name the tenant.
        request_id_var.set(f"worker:{self.stats.name}")
        self.heartbeat = Heartbeat(self.client, self.options.lease_seconds, self.stats.name)
        try:
            self.stats.outcome = self._loop()
        except KeyRejected as exc:
            self.stats.key_rejected = True
            self.stats.outcome = f"stopped: API key rejected ({exc})"
            self.reporter.line(f"{self.stats.name}: the API key was rejected ({exc}); stopping this tenant")
        except Refused as exc:
            self.stats.outcome = f"stopped: {exc}"
            self.reporter.line(f"{self.stats.name}: the API refused a request ({exc}); stopping this tenant")
        except GaveUp as exc:
            self.stats.gave_up = True
            self.stats.outcome = "gave up: the API did not answer"
            self.reporter.line(f"{self.stats.name}: {exc}; is the API up at --api-url (API_URL)? Stopping this tenant")
        finally:
            self.heartbeat.close()
            self.stats.finished = time.monotonic()
            self.client.close()
        return self.stats

    def _loop(self) -> str:
        while not self.stop.is_set():
            limit = self.budget.take(self.options.batch)
            if limit == 0:
                return "stopped: --max-events reached"
            started = time.perf_counter()
            try:
                events = self.client.claim(
                    limit=limit, lease_seconds=self.options.lease_seconds, wait_seconds=self.options.claim_wait()
                )
            except TryLater as exc:
                self.budget.give_back(limit)
                self._back_off(exc)
                continue
            self.failures = 0
            self.budget.give_back(limit - len(events))
            if events:
                self._process(events, started)
            elif self.options.once:
                return "drained"
            elif not self.options.claim_wait():
                self.stop.wait(self.options.poll_interval)
        return "stopped by signal"

    def _back_off(self, exc: TryLater) -> None:
        self.failures += 1
        if self.failures == self.options.tries_allowed():
            raise GaveUp(f"gave up after {self.failures} failed tries in a row (the last: {exc})")
        delay = exc.retry_after if exc.retry_after is not None else backoff(self.failures, self.options.backoff)
        self.reporter.line(f"{self.stats.name}: {exc}; retrying in {delay:.1f}s")
        self.stop.wait(delay)

    def _process(self, events: list[dict], started: float) -> None:
        """Handle the batch while the heartbeat keeps every lease in it alive; then ack what
        was handled and release the rest, each under its own lease."""
        self.heartbeat.hold(events)
        leases = {event["id"]: event.get("lease_id") for event in events}
        # Each event given back, with how long it waits before it may be claimed again.
        handled, given_back, failed = [], {}, 0
        for event in events:
            if self.stop.is_set():
                given_back[event["id"]] = 0
                continue
            try:
                self.handler(event)
                handled.append(event["id"])
            except Exception as exc:
                logger.warning("%s: handler raised %s on %s", self.stats.name, type(exc).__name__, event["id"])
                failed += 1
                given_back[event["id"]] = retry_delay(event.get("attempts") or 1, self.options.retry_delay)
        self.heartbeat.drop(list(leases))
        acked = len(self._write(lambda: self.client.ack(handled)) or []) if handled else 0
        for event_id, delay in given_back.items():
            self._write(lambda event_id=event_id, delay=delay: self.client.release(event_id, leases[event_id], delay))
        self.stats.claimed += len(events)
        self.stats.acked += acked
        self.stats.released += len(given_back)
        self.stats.failed += failed
        self.reporter.batch(self.stats, len(events), acked, len(given_back))
        self._log_batch(len(events), acked, len(given_back), failed, started)

    def _log_batch(self, claimed: int, acked: int, released: int, failed: int, started: float) -> None:
        """One JSON line per batch, as the API writes one per request: counts, never events."""
        fields = {"tenant": self.stats.name, "claimed": claimed, "acked": acked, "released": released}
        fields |= {"failed": failed, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
        logger.info("batch claimed=%d acked=%d released=%d", claimed, acked, released, extra=fields)

    def _write(self, call: Callable[[], object]):
        """An ack or release, retried a few times; if it never lands, the lease runs out and
        the event is handed out again (at least once), so it is logged, not fatal."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return call()
            except TryLater as exc:
                if attempt == WRITE_ATTEMPTS:
                    self.reporter.line(f"{self.stats.name}: gave up writing ({exc}); the lease will run out instead")
                    return None
                time.sleep(backoff(attempt, self.options.backoff))
