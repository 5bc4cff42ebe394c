"""Keeping the leases of a claimed batch alive while its events wait and are handled, so a
handler may run for hours with a short lease: one thread per tenant extends every event
still in hand at half its lease. An event whose lease is gone is let go (it may already be
someone else's; an ack still counts), and a heartbeat the API cannot take now is tried
again at the next beat, while the lease still has half of its time."""

import logging
import threading
import time

from events.worker.client import TenantClient, TryLater

logger = logging.getLogger("triggerapi.worker")


class Heartbeat:
    def __init__(self, client: TenantClient, lease_seconds: int, name: str, interval: float | None = None):
        self.client, self.lease_seconds, self.name = client, lease_seconds, name
        self.interval = lease_seconds / 2 if interval is None else interval
        self._held: dict[str, str] = {}  # event id -> lease id
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.extended = 0
        self.lost: list[str] = []
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{name}", daemon=True)
        self._thread.start()

    def hold(self, events: list[dict]) -> None:
        with self._lock:
            self._held.update({event["id"]: event["lease_id"] for event in events if event.get("lease_id")})

    def drop(self, event_ids: list[str]) -> None:
        with self._lock:
            for event_id in event_ids:
                self._held.pop(event_id, None)

    def close(self) -> None:
        self._closed.set()
        self._thread.join()

    def _beat(self) -> None:
        """Beats are `interval` apart from start to start, however long the extends take: a
        slow beat must not push the next one past the end of the leases it keeps."""
        next_beat = time.monotonic() + self.interval
        while not self._closed.wait(max(0.0, next_beat - time.monotonic())):
            next_beat += self.interval
            with self._lock:
                held = list(self._held.items())
            for event_id, lease_id in held:
                self._extend(event_id, lease_id)

    def _extend(self, event_id: str, lease_id: str) -> None:
        try:
            alive = self.client.extend(event_id, lease_id, self.lease_seconds)
        except TryLater as exc:
            logger.warning(
                "%s: could not extend the lease on %s (%s); trying at the next beat", self.name, event_id, exc
            )
            return
        except Exception as exc:  # noqa: BLE001 - a heartbeat must never kill the worker
            logger.warning("%s: heartbeat on %s failed: %s", self.name, event_id, type(exc).__name__)
            return
        if alive:
            self.extended += 1
            return
        logger.warning("%s: the lease on %s is gone; its handler goes on, and an ack still counts", self.name, event_id)
        with self._lock:
            if self._held.pop(event_id, None) is not None:
                self.lost.append(event_id)
