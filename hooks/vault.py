"""Hook secrets at rest. They are signing keys, not passwords: the service must read them
back to sign each webhook, so they are encrypted (Fernet: AES-128-CBC with an HMAC-SHA256
tag, from the `cryptography` package) with a key derived from SECRET_KEY, never hashed.

Rotating SECRET_KEY: keep the old one in SECRET_KEY_FALLBACKS (Django's own setting) and
stored secrets stay readable; `manage.py reseal_hook_secrets` (hooks/rekey.py) re-encrypts
them under the new key, after which the old one can leave the fallbacks."""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from triggerapi import thaw

_INFO = b"triggerapi hook secrets v1"
UNREADABLE = "a hook secret was sealed with a SECRET_KEY that is neither current nor a fallback"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@cache
def _keys(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(secret_key), *(_fernet(old) for old in fallbacks)])


@cache
def _current(secret_key: str) -> Fernet:
    return _fernet(secret_key)


# Keys derived before a SnapStart snapshot are not used after it: each restored copy derives
# its own, as it verifies API keys again (triggerapi/thaw.py).
thaw.after_restore(_keys.cache_clear)
thaw.after_restore(_current.cache_clear)


def _multi() -> MultiFernet:
    return _keys(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def seal(secret: str) -> str:
    return _multi().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret; ValueError if no key in SECRET_KEY or its fallbacks opens it."""
    try:
        return _multi().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError(UNREADABLE) from None


def reseal(sealed: str) -> str | None:
    """The same secret sealed under the current SECRET_KEY, or None when it already is;
    ValueError if no key in SECRET_KEY or its fallbacks opens it."""
    try:
        _current(settings.SECRET_KEY).decrypt(sealed.encode())
        return None
    except InvalidToken:
        pass
    try:
        return _multi().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError(UNREADABLE) from None
