"""What one request carries through every layer that serves it: its id (every log line names
it), how many store calls it made (its access line counts them) and the deadline after which
no store attempt starts. The middleware sets them, the store reads and counts; both import
this module, so neither imports the other.

They are context variables: a thread serves one request at a time, and work handed to the
store pool runs in a copy of the request's context, so its calls count and keep the deadline."""

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class StoreCallCounter:
    """The request's own store calls (`count`), and those made for its tenant's limits
    (`apart`), which LIMITS.md has measured on their own."""

    def __init__(self):
        self.count = 0
        self.apart = 0
        self._lock = threading.Lock()

    def add(self, *, apart: bool = False) -> None:
        with self._lock:
            if apart:
                self.apart += 1
            else:
                self.count += 1


_store_calls: contextvars.ContextVar[StoreCallCounter | None] = contextvars.ContextVar("store_calls", default=None)
_apart: contextvars.ContextVar[bool] = contextvars.ContextVar("store_calls_apart", default=False)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("store_deadline", default=None)


@contextmanager
def request_scope(request_id: str) -> Iterator[StoreCallCounter]:
    """The request's id for its log lines, and a fresh count of its store calls."""
    counter = StoreCallCounter()
    id_token, calls_token = request_id_var.set(request_id), _store_calls.set(counter)
    try:
        yield counter
    finally:
        request_id_var.reset(id_token)
        _store_calls.reset(calls_token)


def note_store_call() -> None:
    """Counts one DynamoDB request (an attempt: retries count) against the request being
    served; outside a request, nothing."""
    counter = _store_calls.get()
    if counter is not None:
        counter.add(apart=_apart.get())


@contextmanager
def counted_apart() -> Iterator[None]:
    """The store calls made inside are the limits' (the tenant's limits, its places for
    waiting claims), counted apart from the request's own work, so that what a request
    costs the store stays comparable with and without limits."""
    token = _apart.set(True)
    try:
        yield
    finally:
        _apart.reset(token)


def counting_apart() -> bool:
    return _apart.get()


@contextmanager
def budget(seconds: float):
    """No store attempt starts after `seconds` from now (a request's bound; see the README's
    "Failure behaviour"). Outside a budget only the number of attempts bounds a call."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> bool:
    deadline = _deadline.get()
    return deadline is None or time.monotonic() < deadline
