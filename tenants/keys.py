"""API keys: how they look, how they are generated and how they are stored (hashed)."""

import hashlib
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "tk_live_"
# 32 random bytes (256 bits) as URL-safe base64: 43 characters.
_RANDOM_BYTES = 32
_PREFIX_CHARS = 8
_KEY_RE = re.compile(r"^tk_live_[A-Za-z0-9_-]{40,128}$")
TENANT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Principal:
    """Who a request acts for. There is no user table: a verified key is the identity."""

    tenant_id: str
    scopes: frozenset[str]
    key_prefix: str
    key_hash: str = ""
    last_used_at: int | None = None
    is_authenticated: bool = True

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def __str__(self) -> str:
        # How the browsable API names who is logged in; the prefix is not a secret.
        return f"{self.tenant_id} ({self.key_prefix}…)"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(value: str) -> bool:
    return bool(_KEY_RE.match(value))


def display_parts(key: str) -> tuple[str, str]:
    """The parts of a key that may be shown again: a prefix that identifies it, and its last 4."""
    return key[: len(KEY_PREFIX) + _PREFIX_CHARS], key[-4:]
