"""Waking long-polling claims in this process when one of their tenant's events becomes
claimable here (ingested, released, retried, replayed), instead of at their next poll.

Only this process: a claim waiting in another process (another gunicorn worker, another
Lambda container) finds the event at its next poll of the inbox, at most
IDLE_POLL_SECONDS later. Leases and release delays that run out are found by polling too."""

import threading
from collections import defaultdict

_lock = threading.Lock()
_waiting: dict[str, set[threading.Event]] = defaultdict(set)


def notify(tenant_id: str) -> None:
    with _lock:
        for waiter in _waiting.get(tenant_id, ()):
            waiter.set()


class Waiter:
    """`with Waiter(tenant) as waiter: waiter.wait(seconds)` returns early on a notify."""

    def __init__(self, tenant_id: str):
        self.tenant_id = tenant_id
        self._event = threading.Event()

    def __enter__(self) -> "Waiter":
        with _lock:
            _waiting[self.tenant_id].add(self._event)
        return self

    def __exit__(self, *exc) -> None:
        with _lock:
            _waiting[self.tenant_id].discard(self._event)
            if not _waiting[self.tenant_id]:
                del _waiting[self.tenant_id]

    def wait(self, seconds: float) -> bool:
        """True if woken by a notify (which is then consumed), False after `seconds`."""
        woken = self._event.wait(max(0.0, seconds))
        self._event.clear()
        return woken
