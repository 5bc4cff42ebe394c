"""Delivery attempts to a real receiver on loopback: what it gets, and what each answer means."""

import json
import socket
import time

import pytest
from standardwebhooks import Webhook

from hooks.attempt import AttemptResult, attempt_deliver, body_encode
from hooks.schedule import GONE, RETRY, SUCCEEDED
from hooks.signing import secret_generate
from hooks.transport import MAX_BODY_BYTES
from tests.hooks.receiver import Receiver, drip, hang, hang_up, huge, status

EVENT = {"id": "evt_01JDELIVERY", "event_type": "order.paid", "payload": {"total": 12.5, "name": "Zoë"}}
SECRET = secret_generate()


class Lowest:
    def uniform(self, low, high):
        return low


def deliver(url: str, attempt: int = 1, secrets=(SECRET,), **kwargs) -> AttemptResult:
    return attempt_deliver(
        target_url=url,
        event_id=EVENT["id"],
        body=body_encode(EVENT),
        secrets=list(secrets),
        attempt=attempt,
        rng=Lowest(),
        **kwargs,
    )


def ended_at(result: AttemptResult) -> int:
    return result.attempted_at + result.duration_ms


def test_a_2xx_delivers_the_signed_event_as_compact_json(receiver):
    before = int(time.time())
    result = deliver(receiver.url("/in/hook?source=triggerapi"))
    assert (result.status_code, result.error, result.body) == (200, None, b"ok")
    assert (result.outcome, result.next_attempt_at, result.succeeded) == (SUCCEEDED, None, True)
    [received] = receiver.requests
    assert (received.method, received.path) == ("POST", "/in/hook?source=triggerapi")
    assert received.body == json.dumps(EVENT, ensure_ascii=False, separators=(",", ":")).encode()
    headers = received.headers
    assert headers["host"] == f"127.0.0.1:{receiver.port}"
    assert (headers["content-type"], headers["user-agent"]) == ("application/json", "triggerapi-webhooks/1")
    assert headers["webhook-id"] == "evt_01JDELIVERY"
    assert before <= int(headers["webhook-timestamp"]) <= int(time.time())
    assert Webhook(SECRET).verify(received.body, headers) == EVENT


def test_an_ipv6_target_is_delivered_to(local_targets):
    with Receiver("::1") as receiver:
        result = deliver(receiver.url("/in"))
    assert (result.status_code, result.outcome) == (200, SUCCEEDED)
    assert [request.headers["host"] for request in receiver.requests] == [f"[::1]:{receiver.port}"]


def test_during_a_rotation_the_receiver_verifies_with_either_secret(receiver):
    new = secret_generate()
    deliver(receiver.url(), secrets=(new, SECRET))
    [received] = receiver.requests
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, SECRET):
        assert Webhook(secret).verify(received.body, received.headers) == EVENT


def test_a_500_is_retried_after_5_seconds_less_jitter(receiver):
    receiver.answer = status(500, body=b"boom")
    result = deliver(receiver.url())
    assert (result.status_code, result.error, result.body, result.outcome) == (500, None, b"boom", RETRY)
    assert result.next_attempt_at == ended_at(result) + 4000


def test_a_410_is_gone(receiver):
    receiver.answer = status(410)
    result = deliver(receiver.url(), attempt=3)
    assert (result.status_code, result.outcome, result.next_attempt_at) == (410, GONE, None)


def test_a_429_waits_for_its_retry_after(receiver):
    receiver.answer = status(429, Retry_After="120")
    result = deliver(receiver.url())
    assert (result.status_code, result.outcome) == (429, RETRY)
    assert result.next_attempt_at == ended_at(result) + 120_000


def test_a_redirect_is_an_answer_and_is_not_followed(receiver):
    with Receiver() as elsewhere:
        receiver.answer = status(302, Location=elsewhere.url("/stolen"))
        result = deliver(receiver.url())
    assert (result.status_code, result.error, result.outcome) == (302, None, RETRY)
    assert len(receiver.requests) == 1
    assert elsewhere.requests == []


def test_an_answer_slower_than_the_timeout_is_a_timeout(receiver, settings):
    settings.HOOKS_TIMEOUT_SECONDS = 0.5
    receiver.answer = hang(receiver)
    result = deliver(receiver.url())
    assert (result.status_code, result.error, result.outcome) == (None, "timed out", RETRY)
    assert 450 <= result.duration_ms < 3000
    assert len(receiver.requests) == 1


def test_headers_dripped_a_line_at_a_time_cannot_stretch_the_attempt(receiver, settings):
    settings.HOOKS_TIMEOUT_SECONDS = 0.5
    receiver.answer = drip(receiver)
    result = deliver(receiver.url())
    assert (result.status_code, result.error, result.outcome) == (None, "timed out", RETRY)
    assert 450 <= result.duration_ms < 3000


def test_a_body_still_arriving_at_the_deadline_is_cut_and_the_status_stands(receiver, settings):
    settings.HOOKS_TIMEOUT_SECONDS = 0.5
    receiver.answer = drip(receiver, body=True)
    result = deliver(receiver.url())
    assert (result.status_code, result.error, result.outcome) == (200, None, SUCCEEDED)
    assert 0 < len(result.body) < 100
    assert 450 <= result.duration_ms < 3000


def test_a_connection_closed_without_an_answer_is_an_error(receiver):
    receiver.answer = hang_up
    result = deliver(receiver.url())
    assert (result.status_code, result.error, result.outcome) == (None, "connection closed without a response", RETRY)


def test_a_refused_connection_is_an_error(local_targets):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = deliver(f"http://127.0.0.1:{port}/")
    assert (result.status_code, result.error, result.outcome) == (None, "connection refused", RETRY)
    assert result.next_attempt_at == ended_at(result) + 4000


@pytest.mark.parametrize("size", [MAX_BODY_BYTES, MAX_BODY_BYTES + 1, 8 * 1024 * 1024])
def test_only_64_kib_of_the_answer_is_read_and_a_longer_one_is_no_error(receiver, size):
    receiver.answer = huge(size)
    result = deliver(receiver.url())
    assert (result.status_code, result.error, result.outcome) == (200, None, SUCCEEDED)
    assert result.body == b"x" * MAX_BODY_BYTES


def test_an_invalid_url_is_an_attempt_that_failed_not_an_exception(local_targets):
    result = deliver("https://user:pw@example.com/")
    assert result.status_code is None
    assert result.error == "address refused: target_url may not contain a user name or password."
    assert result.outcome == RETRY
