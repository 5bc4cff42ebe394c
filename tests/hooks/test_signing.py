"""Standard Webhooks signatures, checked against the spec's formula and the library that
receivers verify with."""

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from hooks.signing import secret_generate, signature_headers

BODY = '{"id":"evt_01J","event_type":"order.paid","payload":{"name":"Zoë"}}'


def test_a_secret_is_whsec_and_base64_of_32_random_bytes():
    secret = secret_generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret_generate() != secret


def test_the_signature_is_hmac_sha256_over_id_timestamp_and_body():
    secret = secret_generate()
    headers = signature_headers(event_id="evt_01J", timestamp=1_800_000_000, body=BODY, secrets=[secret])
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"evt_01J.1800000000.{BODY}".encode(), hashlib.sha256).digest()
    assert headers == {
        "webhook-id": "evt_01J",
        "webhook-timestamp": "1800000000",
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_a_receiver_verifies_the_headers_with_the_standardwebhooks_library():
    secret = secret_generate()
    headers = signature_headers(event_id="evt_01J", timestamp=int(time.time()), body=BODY, secrets=[secret])
    assert Webhook(secret).verify(BODY.encode(), headers)["payload"] == {"name": "Zoë"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_generate()).verify(BODY.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("paid", "void").encode(), headers)


def test_during_a_rotation_both_secrets_sign_the_new_one_first():
    new, old = secret_generate(), secret_generate()
    now = int(time.time())
    both = signature_headers(event_id="evt_01J", timestamp=now, body=BODY, secrets=[new, old])
    alone = [signature_headers(event_id="evt_01J", timestamp=now, body=BODY, secrets=[s]) for s in (new, old)]
    assert both["webhook-signature"] == " ".join(h["webhook-signature"] for h in alone)
    for secret in (new, old):
        assert Webhook(secret).verify(BODY.encode(), both)["id"] == "evt_01J"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_generate()).verify(BODY.encode(), both)


def test_signing_without_a_secret_is_a_bug():
    with pytest.raises(ValueError):
        signature_headers(event_id="evt_01J", timestamp=1, body=BODY, secrets=[])
