"""https targets: the attempt dials a checked address, yet sends SNI for the host name and
verifies the certificate for that name, against a throwaway CA (trustme)."""

import ssl
from contextlib import ExitStack

import pytest
import trustme

from hooks.attempt import attempt_deliver
from hooks.schedule import RETRY, SUCCEEDED
from hooks.signing import secret_generate
from tests.hooks.conftest import answers
from tests.hooks.receiver import Receiver

CA = trustme.CA()


@pytest.fixture
def https_receiver(local_targets, resolve):
    """`https_receiver(name)`: a receiver on 127.0.0.1 whose certificate is for `name`;
    hooks.example resolves to it."""
    with ExitStack() as running:

        def start(name: str) -> Receiver:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            CA.issue_cert(name).configure_cert(context)
            receiver = running.enter_context(Receiver(tls=context))
            resolve(answers("127.0.0.1", port=receiver.port))
            return receiver

        yield start


def trusting_the_ca() -> ssl.SSLContext:
    context = ssl.create_default_context()
    CA.configure_trust(context)
    return context


def deliver(url: str, tls: ssl.SSLContext | None):
    secret = secret_generate()
    return attempt_deliver(target_url=url, event_id="evt_1", body="{}", secrets=[secret], attempt=1, tls=tls)


def test_connecting_by_address_sends_sni_and_verifies_the_certificate_for_the_name(https_receiver):
    receiver = https_receiver("hooks.example")
    result = deliver(receiver.url("/in", host="hooks.example", scheme="https"), trusting_the_ca())
    assert (result.status_code, result.error, result.outcome) == (200, None, SUCCEEDED)
    assert receiver.sni == ["hooks.example"]
    assert [request.headers["host"] for request in receiver.requests] == [f"hooks.example:{receiver.port}"]


def test_a_certificate_for_another_name_is_refused_before_anything_is_sent(https_receiver):
    receiver = https_receiver("other.example")
    result = deliver(receiver.url("/in", host="hooks.example", scheme="https"), trusting_the_ca())
    assert (result.status_code, result.outcome) == (None, RETRY)
    assert result.error.startswith("TLS error: Hostname mismatch")
    assert receiver.requests == []


def test_a_certificate_for_the_dialled_address_does_not_do_for_the_name(https_receiver):
    receiver = https_receiver("127.0.0.1")
    result = deliver(receiver.url("/in", host="hooks.example", scheme="https"), trusting_the_ca())
    assert result.error.startswith("TLS error: Hostname mismatch")
    assert receiver.requests == []


def test_a_certificate_from_an_unknown_authority_is_refused(https_receiver):
    receiver = https_receiver("hooks.example")
    result = deliver(receiver.url("/in", host="hooks.example", scheme="https"), tls=None)
    assert result.error == "TLS error: unable to get local issuer certificate"
    assert receiver.requests == []
