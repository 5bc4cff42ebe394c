from django.conf import settings
from django.core.cache import cache

from tenants.keys import Principal, hash_key, looks_like_key
from tenants.models import ACTIVE, ApiKey
from triggerapi import store

_UNKNOWN = "unknown"


def _cache_key(key_hash: str) -> str:
    return f"apikey:{key_hash}"


def tenant_get_by_api_key(*, api_key: str) -> Principal | None:
    """The principal for an active key, or None. Verified keys (and unknown ones) are
    remembered for AUTH_CACHE_SECONDS, so a warm request makes no store call."""
    if not looks_like_key(api_key):
        return None
    return tenant_get_by_api_key_hash(key_hash=hash_key(api_key))


def tenant_get_by_api_key_hash(*, key_hash: str) -> Principal | None:
    """As tenant_get_by_api_key, for callers that hold only the hash: a browser session
    keeps the hash, so the plaintext key never sits in a cookie."""
    cached = cache.get(_cache_key(key_hash)) if settings.AUTH_CACHE_SECONDS else None
    if cached is not None:
        return None if cached == _UNKNOWN else cached

    try:
        record = store.call(lambda: ApiKey.get(key_hash, consistent_read=True), what="GetItem ApiKey")
    except ApiKey.DoesNotExist:
        record = None
    principal = None
    if record is not None and record.status == ACTIVE:
        principal = Principal(
            tenant_id=record.tenant_id,
            scopes=frozenset(record.scopes),
            key_prefix=record.prefix,
            key_hash=key_hash,
            last_used_at=record.last_used_at,
        )
    if settings.AUTH_CACHE_SECONDS:
        cache.set(_cache_key(key_hash), principal or _UNKNOWN, settings.AUTH_CACHE_SECONDS)
    return principal


def api_key_list(*, tenant_id: str | None = None) -> list[ApiKey]:
    """Keys of one tenant (oldest first), or of every tenant (by tenant, then age)."""
    if tenant_id:
        return store.call(lambda: list(ApiKey.tenant_index.query(tenant_id)), what="Query tenant keys")
    return sorted(store.call(lambda: list(ApiKey.scan()), what="Scan keys"), key=lambda k: (k.tenant_id, k.created_at))
