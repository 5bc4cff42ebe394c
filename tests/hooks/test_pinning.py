"""An attempt checks the target's addresses again and connects only to what it checked,
however the name's DNS answers change."""

import pytest

from hooks import transport
from hooks.addresses import target_check
from hooks.attempt import attempt_deliver
from hooks.schedule import RETRY, SUCCEEDED
from hooks.signing import secret_generate
from tests.hooks.conftest import PUBLIC, answers
from tests.hooks.receiver import Receiver


@pytest.fixture
def dialled(monkeypatch):
    """Every address the transport opens a connection to, in order."""
    opened = []

    def spy(address, port, timeout):
        opened.append(str(address))
        return real(address, port, timeout)

    real = transport.open_socket
    monkeypatch.setattr(transport, "open_socket", spy)
    return opened


def deliver(url: str):
    return attempt_deliver(target_url=url, event_id="evt_1", body="{}", secrets=[secret_generate()], attempt=1)


def test_a_name_that_now_resolves_to_a_private_address_is_refused_without_connecting(resolve, dialled):
    resolver = resolve(answers(PUBLIC), answers("10.0.0.1"))
    target_check(url="https://hooks.example.com/in")
    result = deliver("https://hooks.example.com/in")
    assert resolver.calls == ["hooks.example.com", "hooks.example.com"]
    assert result.error == (
        "address refused: target_url resolves to an address that is not public: 10.0.0.1 "
        "(HOOKS_ALLOW_PRIVATE_TARGETS allows it locally)."
    )
    assert (result.status_code, result.outcome) == (None, RETRY)
    assert dialled == []


def test_the_connection_goes_to_the_checked_address_when_dns_changes_right_after(local_targets, resolve, dialled):
    with Receiver("127.0.0.1") as checked, Receiver("127.0.0.2", port=checked.port) as rebound:
        resolver = resolve(answers("127.0.0.1"), answers("127.0.0.2"))
        result = deliver(checked.url("/in", host="hooks.test"))
    assert resolver.calls == ["hooks.test"]
    assert dialled == ["127.0.0.1"]
    assert (result.status_code, result.outcome) == (200, SUCCEEDED)
    assert [request.headers["host"] for request in checked.requests] == [f"hooks.test:{checked.port}"]
    assert rebound.requests == []


def test_the_checked_addresses_are_tried_in_order_until_one_connects(receiver, resolve, dialled):
    resolve(answers("127.0.0.3", "127.0.0.1"))
    result = deliver(receiver.url("/in", host="hooks.test"))
    assert dialled == ["127.0.0.3", "127.0.0.1"]
    assert (result.status_code, len(receiver.requests)) == (200, 1)


def test_when_no_checked_address_connects_the_last_error_is_the_attempts(local_targets, resolve, dialled):
    with Receiver() as closed:
        port = closed.port
    resolve(answers("127.0.0.3", "127.0.0.4"))
    result = deliver(f"http://hooks.test:{port}/")
    assert dialled == ["127.0.0.3", "127.0.0.4"]
    assert (result.status_code, result.error) == (None, "connection refused")
