"""The worker's heartbeat against a scripted client: which leases it keeps alive, and when
it lets one go."""

import threading

from events.worker.client import TryLater
from events.worker.heartbeat import Heartbeat


class Leases:
    """extend() answers from a table of lease ids that are still current; it signals once
    it has been asked `enough` times, so the test waits for beats, not for time."""

    def __init__(self, current: set[str], enough: int, fail_first: bool = False):
        self.current, self.enough, self.fail_first = current, enough, fail_first
        self.calls: list[tuple[str, str, int]] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def extend(self, event_id: str, lease_id: str, lease_seconds: int) -> bool:
        with self._lock:
            self.calls.append((event_id, lease_id, lease_seconds))
            if len(self.calls) >= self.enough:
                self.done.set()
            first = len(self.calls) == 1
        if first and self.fail_first:
            raise TryLater("503 service_unavailable")
        return lease_id in self.current


def beat(leases: Leases, events: list[dict], drop: list[str] = ()) -> Heartbeat:
    heartbeat = Heartbeat(leases, lease_seconds=30, name="acme", interval=0.001)
    heartbeat.hold(events)
    heartbeat.drop(list(drop))
    assert leases.done.wait(10), "the heartbeat never beat"
    heartbeat.close()
    return heartbeat


def test_every_event_in_hand_is_extended_by_its_own_lease_for_the_lease_seconds():
    leases = Leases({"l1", "l2"}, enough=6)

    beat(leases, [{"id": "a", "lease_id": "l1"}, {"id": "b", "lease_id": "l2"}])

    assert {call for call in leases.calls} == {("a", "l1", 30), ("b", "l2", 30)}


def test_a_dropped_event_is_not_extended():
    leases = Leases({"l1", "l2"}, enough=4)

    beat(leases, [{"id": "a", "lease_id": "l1"}, {"id": "b", "lease_id": "l2"}], drop=["b"])

    assert {event_id for event_id, _, _ in leases.calls} == {"a"}


def test_a_lease_that_is_gone_is_let_go_and_reported():
    leases = Leases({"l1"}, enough=5)

    heartbeat = beat(leases, [{"id": "a", "lease_id": "l1"}, {"id": "b", "lease_id": "gone"}])

    assert [call for call in leases.calls if call[0] == "b"] == [("b", "gone", 30)]
    assert heartbeat.lost == ["b"]


def test_a_heartbeat_the_api_could_not_take_is_tried_again_at_the_next_beat():
    leases = Leases({"l1"}, enough=3, fail_first=True)

    heartbeat = beat(leases, [{"id": "a", "lease_id": "l1"}])

    assert heartbeat.lost == [] and heartbeat.extended >= 2
