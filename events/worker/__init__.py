"""The worker: simulates the downstream engine that consumes each tenant's inbox. Tenants
are served side by side (a thread each, a keep-alive session each), so one slow tenant does
not stall the others. `run_worker` parses arguments; this module does the work."""

import io
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from django.utils.module_loading import import_string

from events.worker.client import TenantClient
from events.worker.report import Reporter, TenantStats
from events.worker.tenant import (
    BACKOFF_BASE_SECONDS,
    ONCE_MAX_TRIES,
    RETRY_DELAY_BASE_SECONDS,
    Budget,
    TenantWorker,
)

logger = logging.getLogger("triggerapi.worker")

__all__ = ["Tenant", "Worker", "WorkerOptions", "env_list", "lambda_drain", "load_handler", "log_event", "tenants_from"]


@dataclass(frozen=True)
class Tenant:
    name: str
    api_key: str


@dataclass(frozen=True)
class WorkerOptions:
    api_url: str
    batch: int = 10
    lease_seconds: int = 30
    # How long each claim waits on the API for events (long polling); with 0, the worker
    # sleeps poll_interval between empty claims instead.
    wait: float = 20.0
    poll_interval: float = 5.0
    once: bool = False
    max_events: int | None = None
    # Failed claims in a row before a tenant gives up: None for the mode's default
    # (ONCE_MAX_TRIES with --once, never without), 0 for never.
    max_tries: int | None = None
    # The first back-off after a failure, doubling up to BACKOFF_CAP_SECONDS.
    backoff: float = BACKOFF_BASE_SECONDS
    # Seconds an event whose handler raised waits before its next claim, doubling with each
    # attempt (events.worker.tenant.retry_delay); 0 gives it back at once.
    retry_delay: float = RETRY_DELAY_BASE_SECONDS

    def claim_wait(self) -> float:
        """--once drains what is there now: it never waits for more."""
        return 0 if self.once else self.wait

    def tries_allowed(self) -> int:
        """0 means unlimited."""
        if self.max_tries is not None:
            return self.max_tries
        return ONCE_MAX_TRIES if self.once else 0


def log_event(event: dict) -> None:
    """The default handler: one log line per event."""
    logger.info("handled %s type=%s attempts=%s", event["id"], event.get("event_type"), event.get("attempts"))


def load_handler(dotted_path: str) -> Callable[[dict], object]:
    handler = import_string(dotted_path)
    if not callable(handler):
        raise TypeError(f"{dotted_path} is not callable")
    return handler


def env_list(*names: str) -> list[str]:
    """The first of these environment variables that is set, as a comma-separated list."""
    for name in names:
        if values := [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]:
            return values
    return []


def tenants_from(keys: list[str], names: list[str]) -> list[Tenant]:
    """Pair keys with names; a key without a name is called tenant-N in the output."""
    if len(names) > len(keys):
        raise ValueError(f"{len(names)} tenant names for {len(keys)} API keys")
    return [Tenant(names[i] if i < len(names) else f"tenant-{i + 1}", key) for i, key in enumerate(keys)]


class Worker:
    def __init__(self, tenants: list[Tenant], options: WorkerOptions, *, handler=log_event, out: TextIO):
        self.stop_event = threading.Event()
        self.reporter = Reporter(out)
        budget = Budget(options.max_events)
        self.tenants = [
            TenantWorker(
                name=t.name,
                client=TenantClient(options.api_url, t.api_key),
                options=options,
                stop=self.stop_event,
                budget=budget,
                reporter=self.reporter,
                handler=handler,
            )
            for t in tenants
        ]

    def stop(self) -> None:
        """Stop claiming; what is in hand is finished (the current event) or released."""
        self.stop_event.set()

    def run(self) -> list[TenantStats]:
        threads = [threading.Thread(target=t.run, name=f"worker-{t.stats.name}") for t in self.tenants]
        for thread in threads:
            thread.start()
        for thread in threads:
            # A timed join keeps the main thread free to run signal handlers.
            while thread.is_alive():
                thread.join(0.2)
        stats = [t.stats for t in self.tenants]
        self.reporter.summary(stats)
        return stats


def lambda_drain(event: dict, context) -> dict:
    """A Zappa scheduled event: drain each configured tenant once (API_URL, API_KEYS,
    TENANT_NAMES from the environment), stopping well before the Lambda times out."""
    tenants = tenants_from(env_list("API_KEYS"), env_list("TENANT_NAMES"))
    worker = Worker(tenants, WorkerOptions(api_url=os.environ["API_URL"], once=True), out=io.StringIO())
    seconds_left = context.get_remaining_time_in_millis() / 1000 - 10 if context else 240
    timer = threading.Timer(max(1.0, seconds_left), worker.stop)
    timer.start()
    try:
        stats = worker.run()
    finally:
        timer.cancel()
    return {
        s.name: {"claimed": s.claimed, "acked": s.acked, "released": s.released, "outcome": s.outcome} for s in stats
    }
