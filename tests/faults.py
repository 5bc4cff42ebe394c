"""A fault injector for the store, at botocore's level: under PynamoDB and under our own
retry policy (triggerapi.store.call), so every layer above sees the fault as it would see
the real one. The errors raised are botocore's own, as a real network produces them.

    with inject("lost", at=2):      # the 2nd store request is applied, then its answer lost
    with inject("hang", at=1, down=True):  # from the 1st request on, nothing answers
    with inject("throttled", at=1, operation="BatchWriteItem"):  # the 1st BatchWriteItem
"""

import threading
from contextlib import ExitStack, contextmanager

from botocore import exceptions as boto

from tests.store_hooks import fake_response, hooked
from triggerapi.context import is_limiter_call

URL = "http://store.invalid"
KINDS = ("throttled", "error_500", "reset", "lost", "hang", "refused")


def _raise(kind: str):
    if kind == "reset":  # the connection dropped before the store saw the request
        raise boto.ConnectionClosedError(endpoint_url=URL)
    if kind in ("hang", "lost"):  # no answer before the read timeout
        raise boto.ReadTimeoutError(endpoint_url=URL)
    if kind == "refused":
        raise boto.EndpointConnectionError(endpoint_url=URL)


def _answer(kind: str):
    if kind == "throttled":
        return fake_response(400), {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}
    return fake_response(500), {"Error": {"Code": "InternalServerError", "Message": "injected"}}


class Injector:
    """Fails the `at`-th store request (1-based; of `operation` only, if given) with `kind`;
    with `down`, every one after it too. The rate limiter's requests are neither counted nor
    failed: when they happen depends on the clock, and their faults are tested on their own
    (tests/limits)."""

    def __init__(self, kind: str, *, at: int, down: bool = False, operation: str | None = None):
        assert kind in KINDS, kind
        self.kind, self.at, self.down, self.operation = kind, at, down, operation
        self.requests: list[str] = []
        self.faulted: list[str] = []
        self._lock = threading.Lock()
        self._faulty: set[int] = set()

    def _is_faulty(self, number: int) -> bool:
        return number == self.at or (self.down and number > self.at)

    def before(self, model, context, **kwargs):
        if is_limiter_call():
            return None
        with self._lock:
            self.requests.append(model.name)
            number = sum(1 for name in self.requests if self.operation in (None, name))
            if self.operation not in (None, model.name) or not self._is_faulty(number):
                return None
            self.faulted.append(model.name)
            if self.kind == "lost":
                self._faulty.add(id(context))  # applied now; the answer is lost in after()
                return None
        if self.kind in ("throttled", "error_500"):
            return _answer(self.kind)
        _raise(self.kind)

    def after(self, context, **kwargs):
        with self._lock:
            lost = id(context) in self._faulty
            self._faulty.discard(id(context))
        if lost:
            _raise("lost")


@contextmanager
def inject(kind: str, *, at: int, down: bool = False, operation: str | None = None):
    injector = Injector(kind, at=at, down=down, operation=operation)
    with ExitStack() as stack:
        stack.enter_context(hooked("before-call.dynamodb", injector.before))
        stack.enter_context(hooked("after-call.dynamodb", injector.after))
        yield injector


@contextmanager
def recording():
    """Counts store requests without failing any (an injector that never fires)."""
    with inject("throttled", at=0) as injector:
        yield injector
