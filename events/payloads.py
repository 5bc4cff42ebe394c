"""A payload as it is stored, and a request as an idempotency key recognises it again."""

import hashlib
import json

from rest_framework.exceptions import ValidationError


def canonical_json(value) -> str:
    """Compact JSON text as stored; a lone surrogate can't be stored as UTF-8, so it is refused."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("Strings must be valid Unicode (no unpaired surrogates).") from None
    return text


def request_fingerprint(kind: str, value) -> str:
    """Same request, same fingerprint, whatever the key order or whitespace."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()
