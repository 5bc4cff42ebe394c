"""What one request carries through every layer that serves it: its id (every log line names
it), how many store calls it made (its access line counts them, the limiter's apart from its
own) and the deadline after which no store attempt starts. The middleware sets them, the
store reads and counts; both import this module, so neither imports the other.

They are context variables: a thread serves one request at a time, and work handed to the
store pool runs in a copy of the request's context, so its calls count and keep the deadline."""

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class StoreCallCounter:
    """The request's own store calls (`count`), and the limits' (`limiter`: the rate
    limiter's grants, a waiting claim's place): what a request costs the limits is counted
    apart, so that "ingest is one store call" stays a statement about ingest."""

    def __init__(self):
        self.count = 0
        self.limiter = 0
        self._lock = threading.Lock()

    def add(self, *, limiter: bool) -> None:
        with self._lock:
            if limiter:
                self.limiter += 1
            else:
                self.count += 1


_store_calls: contextvars.ContextVar[StoreCallCounter | None] = contextvars.ContextVar("store_calls", default=None)
_limiter_calls: contextvars.ContextVar[bool] = contextvars.ContextVar("limiter_calls", default=False)
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
        counter.add(limiter=_limiter_calls.get())


@contextmanager
def limiter_calls() -> Iterator[None]:
    """The store calls made inside are the limits' (limits/grants.py, limits/waiting.py),
    counted apart."""
    token = _limiter_calls.set(True)
    try:
        yield
    finally:
        _limiter_calls.reset(token)


def is_limiter_call() -> bool:
    """True inside `limiter_calls()`: what a test that counts a request's own calls leaves out."""
    return _limiter_calls.get()


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
