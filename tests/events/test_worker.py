"""The worker's loop against a scripted API client: what it acks, releases, waits and reports."""

import io
import threading

import pytest

from events.worker import WorkerOptions
from events.worker.client import KeyRejected, TryLater
from events.worker.report import Reporter
from events.worker.tenant import BACKOFF_CAP_SECONDS, ONCE_MAX_TRIES, Budget, TenantWorker, backoff


class ScriptedClient:
    """Answers claim() from a script: a list of events, or an exception to raise."""

    def __init__(self, *claims):
        self.claims = list(claims)
        self.acked: list[str] = []
        self.released: list[str] = []
        self.delays: list[int] = []
        self.waits: list[float] = []

    def claim(self, *, limit, lease_seconds, wait_seconds):
        self.waits.append(wait_seconds)
        answer = self.claims.pop(0) if self.claims else []
        if isinstance(answer, Exception):
            raise answer
        return answer[:limit]

    def ack(self, ids):
        self.acked += ids
        return ids

    def release(self, event_id, lease_id=None, delay_seconds=0):
        self.released.append(event_id)
        self.delays.append(delay_seconds)

    def extend(self, event_id, lease_id, lease_seconds):
        return True

    def close(self):
        pass


class RecordingStop(threading.Event):
    """A stop event whose waits return at once but are recorded."""

    def __init__(self):
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return self.is_set()


def events(*ids):
    return [{"id": i, "event_type": "t", "attempts": 1} for i in ids]


def run(client, handler=lambda event: None, once=True, max_events=None, stop=None, **options):
    out = io.StringIO()
    worker = TenantWorker(
        name="acme",
        client=client,
        options=WorkerOptions(api_url="http://api", once=once, batch=10, **options),
        stop=stop or RecordingStop(),
        budget=Budget(max_events),
        reporter=Reporter(out),
        handler=handler,
    )
    return worker.run(), out.getvalue()


def test_handled_events_are_acked_in_one_batch_and_the_tenant_drains():
    client = ScriptedClient(events("a", "b", "c"))

    stats, out = run(client)

    assert client.acked == ["a", "b", "c"] and client.released == []
    assert (stats.claimed, stats.acked, stats.released, stats.failed, stats.outcome) == (3, 3, 0, 0, "drained")
    assert "acme         claimed   3  acked   3  released   0" in out


def test_events_whose_handler_raised_are_released_not_acked():
    def handler(event):
        if event["id"] == "b":
            raise ValueError("cannot handle b")

    client = ScriptedClient(events("a", "b", "c"))

    stats, _ = run(client, handler)

    assert client.acked == ["a", "c"] and client.released == ["b"]
    assert (stats.acked, stats.released, stats.failed) == (2, 1, 1)


def test_stop_mid_batch_finishes_the_event_in_hand_and_releases_the_rest():
    stop = RecordingStop()

    def handler(event):
        if event["id"] == "b":
            stop.set()

    client = ScriptedClient(events("a", "b", "c", "d"), events("e"))

    stats, _ = run(client, handler, once=False, stop=stop)

    assert client.acked == ["a", "b"] and client.released == ["c", "d"]
    assert client.delays == [0, 0]  # nothing went wrong with them: claimable again at once
    assert stats.outcome == "stopped by signal"


def test_an_event_whose_handler_raised_waits_longer_after_each_attempt():
    def fail(event):
        raise ValueError("down")

    client = ScriptedClient(
        [{"id": f"e{n}", "attempts": n} for n in range(1, 6)] + [{"id": "late", "attempts": 12}],
    )

    run(client, fail)

    assert client.delays == [5, 10, 20, 40, 80, 900]


def test_retry_after_is_honoured_and_the_worker_goes_on():
    client = ScriptedClient(TryLater("503 service_unavailable", retry_after=7), events("a"))
    stop = RecordingStop()

    stats, out = run(client, stop=stop)

    assert stop.waits == [7]
    assert client.acked == ["a"] and stats.outcome == "drained"
    assert "acme: 503 service_unavailable; retrying in 7.0s" in out


def test_network_errors_back_off_exponentially_with_a_cap():
    client = ScriptedClient(*[TryLater("ConnectionError")] * 12, events("a"))
    stop = RecordingStop()

    run(client, stop=stop, max_tries=0)

    assert len(stop.waits) == 12 and client.acked == ["a"]
    assert all(0 <= wait <= BACKOFF_CAP_SECONDS for wait in stop.waits)


@pytest.mark.parametrize("failures,ceiling", [(1, 0.5), (2, 1.0), (3, 2.0), (10, BACKOFF_CAP_SECONDS)])
def test_backoff_is_jittered_below_a_doubling_ceiling(failures, ceiling):
    delays = [backoff(failures) for _ in range(200)]

    assert max(delays) <= ceiling
    assert len(set(delays)) > 100


def test_rejected_key_stops_only_this_tenant_with_a_clear_message():
    client = ScriptedClient(KeyRejected("401 authentication_failed: Unknown or revoked API key."))

    stats, out = run(client)

    assert stats.key_rejected is True
    assert "acme: the API key was rejected (401 authentication_failed: Unknown or revoked API key.)" in out


def test_max_events_limits_what_is_claimed():
    client = ScriptedClient(events(*"abcdefghij"), events(*"klmnopqrst"))

    stats, _ = run(client, once=False, max_events=15)

    assert stats.claimed == 15 and len(client.acked) == 15
    assert stats.outcome == "stopped: --max-events reached"


def test_without_once_claims_wait_on_the_api_instead_of_sleeping():
    stop = RecordingStop()
    client = ScriptedClient([], [], events("a"))
    client.claims.append(KeyRejected("401"))

    run(client, once=False, stop=stop)

    assert client.waits == [20.0] * 4 and stop.waits == []


def test_with_once_claims_never_wait():
    client = ScriptedClient(events("a"), [])

    run(client, once=True)

    assert client.waits == [0, 0]


def test_with_wait_0_an_empty_inbox_sleeps_the_poll_interval():
    stop = RecordingStop()
    client = ScriptedClient([], [], events("a"))
    client.claims.append(KeyRejected("401"))

    run(client, once=False, stop=stop, wait=0)

    assert client.waits == [0] * 4 and stop.waits == [5.0, 5.0]


def test_with_once_a_tenant_gives_up_after_five_failed_claims_in_a_row():
    client = ScriptedClient(*[TryLater("cannot connect to http://api")] * 10)
    stop = RecordingStop()

    stats, out = run(client, stop=stop)

    assert (stats.gave_up, stats.outcome) == (True, "gave up: the API did not answer")
    assert len(stop.waits) == ONCE_MAX_TRIES - 1 == 4
    assert out.splitlines()[-1] == (
        "acme: gave up after 5 failed tries in a row (the last: cannot connect to http://api); "
        "is the API up at --api-url (API_URL)? Stopping this tenant"
    )


def test_a_successful_claim_starts_the_count_of_failed_tries_again():
    failing = [TryLater("503 service_unavailable")] * 4
    client = ScriptedClient(*failing, events("a"), *failing, [])

    stats, _ = run(client)

    assert (stats.gave_up, stats.outcome, client.acked) == (False, "drained", ["a"])


def test_max_tries_and_backoff_bound_the_tries_and_the_waits():
    stop = RecordingStop()

    stats, _ = run(ScriptedClient(*[TryLater("x")] * 5), stop=stop, max_tries=3, backoff=0.01)

    assert stats.gave_up is True
    assert len(stop.waits) == 2 and all(0 <= wait <= 0.02 for wait in stop.waits)


def test_without_once_the_worker_never_gives_up_by_default():
    assert WorkerOptions(api_url="http://api").tries_allowed() == 0
    assert WorkerOptions(api_url="http://api", once=True).tries_allowed() == ONCE_MAX_TRIES
