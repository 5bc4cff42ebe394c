"""Standard Webhooks 1.0 signatures: what lets a receiver trust that a request came from us.

The signing itself is the `standardwebhooks` package's (`Webhook.sign`), the library the
contract tells receivers to verify with, so the two cannot drift apart; it is pure Python
with no dependencies. What is ours: the secret's shape, the attempt's timestamp, and two
signatures side by side while a secret is being rotated.
"""

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from secrets import token_bytes

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    """`whsec_` + standard base64 of 32 random bytes: the form standardwebhooks decodes
    (it skips characters outside the standard alphabet, so URL-safe base64 would
    silently give the receiver a different key)."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode("ascii")


def signature_headers(*, event_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> dict[str, str]:
    """The three webhook-* headers for one attempt. `timestamp` is the attempt's Unix
    seconds; `secrets` are the hook's current secret first, then, during a rotation, the
    previous one: each signs, and a receiver holding either accepts the request."""
    if not secrets:
        raise ValueError("A hook always has a secret to sign with.")
    moment = datetime.fromtimestamp(timestamp, UTC)
    signatures = [Webhook(secret).sign(msg_id=event_id, timestamp=moment, data=body) for secret in secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }
