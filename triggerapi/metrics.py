"""The operator's CloudWatch metrics (OBSERVE.md, "Metrics for the operator"), written as
Embedded Metric Format lines in the logs: CloudWatch Logs turns each line into metric data,
so no process makes an API call (nor needs the permission to) for them.

A metric written here is a few dictionary operations under a lock: no store call, no I/O,
no thread. What is written is summed (counts) or kept (values) per group of dimension
values, and written out as one line per group: at the end of an API request (the
middleware's `request_metrics`), about every second and at exit in a long-running process
(`flushing`), at the end of a Lambda invocation (`flushed`). Work done outside a request
goes to the process's collector, whichever thread does it.

Dimensions: `[tenant]` for every metric; the delivery metrics also `[tenant, hook]`, and no
more than those two sets: each combination of dimension values is a custom metric, which
CloudWatch bills monthly, and a tenant may have 100 hooks. A metric's own dimension
(`outcome`, `limit`) is in each of its sets."""

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from django.conf import settings

from triggerapi import thaw

NAMESPACE = "triggerapi"
# EMF takes at most 100 values of one metric in one line (what AWS's own EMF libraries
# split at); the rest go on further lines.
MAX_VALUES = 100

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metric:
    unit: str
    # Its own dimensions, beyond tenant (and hook), in every one of its dimension sets.
    dimensions: tuple[str, ...] = ()
    per_hook: bool = False
    # Each value kept (a distribution, for percentiles), rather than summed.
    distribution: bool = False

    @property
    def dimension_sets(self) -> tuple[tuple[str, ...], ...]:
        tenant = ("tenant", *self.dimensions)
        return (tenant, ("tenant", "hook", *self.dimensions)) if self.per_hook else (tenant,)


METRICS = {
    "Ingested": Metric("Count"),
    "Claimed": Metric("Count"),
    "Acked": Metric("Count"),
    # Events that used up their claims (MAX_ATTEMPTS) and became `failed`.
    "Failed": Metric("Count"),
    # outcome: succeeded, retry, failed (the delivery's last), gone (410), not_made.
    "DeliveryAttempts": Metric("Count", ("outcome",), per_hook=True),
    # From the event's ingest to the end of a delivery's succeeding attempt.
    "DeliveryLatency": Metric("Milliseconds", per_hook=True, distribution=True),
    # limit: which of the tenant's limits refused (the 429's `details.limit`).
    "RateLimited": Metric("Count", ("limit",)),
}

# (dimension sets, dimension values as (name, value) pairs): what one line holds.
Group = tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, str], ...]]


class Collector:
    """Counts summed and values kept per group, from any number of threads, until drained."""

    def __init__(self):
        self._lock = threading.Lock()
        self._groups: dict[Group, dict[str, float | list[float]]] = {}

    def add(self, name: str, amount: float, group: Group, *, distribution: bool) -> None:
        with self._lock:
            metrics = self._groups.setdefault(group, {})
            if distribution:
                metrics.setdefault(name, []).append(amount)
            else:
                metrics[name] = metrics.get(name, 0) + amount

    def drain(self, *, timestamp_ms: int) -> list[dict]:
        """What was collected, as EMF documents (one per group, more when a metric has more
        than MAX_VALUES values); the collector is empty after."""
        with self._lock:
            groups, self._groups = self._groups, {}
        return [document for group, metrics in groups.items() for document in _documents(group, metrics, timestamp_ms)]


def _documents(group: Group, metrics: dict, timestamp_ms: int) -> Iterator[dict]:
    dimension_sets, values = group
    counts = {name: amount for name, amount in metrics.items() if not isinstance(amount, list)}
    series = {name: amount for name, amount in metrics.items() if isinstance(amount, list)}
    lines = max([1, *(-(-len(amounts) // MAX_VALUES) for amounts in series.values())])
    for line in range(lines):
        members = dict(counts) if line == 0 else {}
        for name, amounts in series.items():
            if part := amounts[line * MAX_VALUES : (line + 1) * MAX_VALUES]:
                members[name] = part
        directive = {
            "Namespace": NAMESPACE,
            "Dimensions": [list(dimensions) for dimensions in dimension_sets],
            "Metrics": [{"Name": name, "Unit": METRICS[name].unit} for name in members],
        }
        yield {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]}, **dict(values), **members}


PROCESS = Collector()
_request: ContextVar[Collector | None] = ContextVar("metrics", default=None)


def count(name: str, *, tenant: str, n: int = 1, hook: str | None = None, **dimensions: str) -> None:
    """`n` more of a counted metric: `count("Acked", tenant=...)`,
    `count("DeliveryAttempts", tenant=..., hook=..., outcome="retry")`."""
    _add(name, n, tenant, hook, dimensions)


def observe(name: str, amount: float, *, tenant: str, hook: str | None = None, **dimensions: str) -> None:
    """One value of a distribution: `observe("DeliveryLatency", 840, tenant=..., hook=...)`."""
    _add(name, amount, tenant, hook, dimensions)


def _add(name: str, amount: float, tenant: str, hook: str | None, dimensions: dict[str, str]) -> None:
    if not settings.METRICS_ENABLED:
        return
    metric = METRICS[name]
    if set(dimensions) != set(metric.dimensions) or (hook is not None) != metric.per_hook:
        raise ValueError(f"{name} takes tenant{', hook' * metric.per_hook} and {metric.dimensions}")
    values = (("tenant", tenant), *((("hook", hook),) if metric.per_hook else ()))
    values += tuple((dimension, str(dimensions[dimension])) for dimension in metric.dimensions)
    collector = _request.get() or PROCESS
    collector.add(name, amount, (metric.dimension_sets, values), distribution=metric.distribution)


def flush(collector: Collector = PROCESS) -> list[dict]:
    """Writes what the collector holds, one line per document, on the `triggerapi.metrics`
    logger (stdout, the JSON alone on its line: on Lambda a line must be the bare object for
    CloudWatch to take it); the documents written."""
    documents = collector.drain(timestamp_ms=time.time_ns() // 1_000_000)
    for document in documents:
        log.info(json.dumps(document, separators=(",", ":")))
    return documents


# What was counted outside a request before a SnapStart snapshot is written once, by the
# process that counted it, not again by every copy restored from it (triggerapi/thaw.py).
thaw.before_snapshot(flush)


@contextmanager
def request_metrics() -> Iterator[None]:
    """What is written inside (and in work it hands to the store pool, which runs in a copy
    of its context) is written out when it ends: an API request's metrics."""
    collector = Collector()
    token = _request.set(collector)
    try:
        yield
    finally:
        _request.reset(token)
        flush(collector)


@contextmanager
def flushing(every_seconds: float = 1.0) -> Iterator[None]:
    """A long-running process's metrics, written every `every_seconds` on one thread, and
    once more when it ends."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every_seconds):
            flush()

    thread = threading.Thread(target=run, name="metrics", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        flush()


def flushed[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """A Lambda function's metrics, written when each invocation ends (however it ends)."""

    @wraps(function)
    def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        finally:
            flush()

    return invoke
