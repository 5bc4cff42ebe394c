import logging
import threading
from dataclasses import dataclass

from rest_framework import status
from rest_framework.exceptions import APIException

from tenants.keys import TENANT_ID_RE, Principal, display_parts, generate_key, hash_key, looks_like_key
from tenants.models import ACTIVE, REVOKED, SCOPES, SCOPES_VERSION, ApiKey
from triggerapi import store, writes
from triggerapi.store import ConditionFailed, StoreUnavailable, now_ms

logger = logging.getLogger(__name__)

SEED_TENANTS = ("acme", "globex", "initech")
LAST_USED_RESOLUTION_MS = 3600 * 1000


class ApiKeyError(APIException):
    """A key operation that cannot be done as asked (unknown key, ambiguous prefix, bad
    input). Services in both apps raise DRF exceptions; commands print their message."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This key operation cannot be done."
    default_code = "validation_error"


class ApiKeyNotFound(ApiKeyError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


def api_key_issue(*, tenant_id: str, scopes: tuple[str, ...] = SCOPES) -> tuple[ApiKey, str]:
    """Issue a key for a tenant (a tenant exists as long as it has keys). Returns the stored
    record and the plaintext key, which is not kept anywhere."""
    if not TENANT_ID_RE.match(tenant_id):
        raise ApiKeyError("Tenant ids are 1-63 characters: lowercase letters, digits, '-' and '_'.")
    unknown = set(scopes) - set(SCOPES)
    if not scopes or unknown:
        raise ApiKeyError(f"Scopes must be a non-empty subset of {', '.join(SCOPES)}.")
    key = generate_key()
    record = api_key_record(key, tenant_id=tenant_id, scopes=scopes)
    writes.put(record, condition=ApiKey.key_hash.does_not_exist(), token=writes.new_token())
    return record, key


def api_key_record(key: str, *, tenant_id: str, scopes) -> ApiKey:
    """The record of a key, active from now, not yet stored (the warm-up's stub store answers
    with one that never is: triggerapi/warmup.py)."""
    prefix, last4 = display_parts(key)
    return ApiKey(
        hash_key(key),
        tenant_id=tenant_id,
        prefix=prefix,
        last4=last4,
        scopes=set(scopes),
        status=ACTIVE,
        created_at=now_ms(),
        scopes_version=SCOPES_VERSION,
    )


def api_key_revoke(*, key_or_prefix: str) -> tuple[ApiKey, bool]:
    """Revoke a key. Returns the record and whether this call revoked it: revoking is
    idempotent, and a key that already was revoked is returned unchanged, with False."""
    record = _find_key(key_or_prefix.strip())
    return record, _revoke(record)


def _revoke(record: ApiKey) -> bool:
    """True if this call revoked the key; False if it already was (by us or someone else)."""
    if record.status == REVOKED:
        return False
    now = now_ms()
    try:
        writes.update(
            ApiKey,
            record.key_hash,
            actions=[ApiKey.status.set(REVOKED), ApiKey.revoked_at.set(now)],
            condition=ApiKey.status == ACTIVE,
            token=writes.new_token(),
            return_item=False,
        )
    except ConditionFailed as exc:
        if exc.item:
            revoked = ApiKey.from_raw_data(exc.item)
            record.status, record.revoked_at = revoked.status, revoked.revoked_at
        return False
    record.status, record.revoked_at = REVOKED, now
    return True


def _find_key(key_or_prefix: str) -> ApiKey:
    if looks_like_key(key_or_prefix):
        try:
            return store.call(lambda: ApiKey.get(hash_key(key_or_prefix), consistent_read=True), what="GetItem ApiKey")
        except ApiKey.DoesNotExist:
            raise ApiKeyNotFound("No such key.") from None
    # Also accepted: the masked form list_keys prints, `tk_live_XXXXXXXX…abcd`.
    prefix, _, last4 = key_or_prefix.partition("…")
    if len(prefix) < 12:
        raise ApiKeyError("Give the whole key or its prefix as list_keys shows it (tk_live_XXXXXXXX).")
    found = store.call(lambda: list(ApiKey.scan(ApiKey.prefix.startswith(prefix))), what="Scan keys")
    matches = [k for k in found if k.last4 == last4 or not last4]
    if not matches:
        raise ApiKeyNotFound(f"No key starts with {key_or_prefix}.")
    if len(matches) > 1:
        raise ApiKeyError(f"{len(matches)} keys start with {key_or_prefix}; give more of the key.")
    return matches[0]


# When this process last recorded each key's use: a principal from the auth cache carries the
# last_used_at it was read with, which may predate our own write.
_touched: dict[str, int] = {}
_touched_lock = threading.Lock()


def api_key_touch(*, principal: Principal) -> None:
    """Record that a key was used, at most once an hour (a conditional write, so concurrent
    requests don't all write). Failing to record it never fails the request."""
    now = now_ms()
    with _touched_lock:
        last = max(principal.last_used_at or 0, _touched.get(principal.key_hash, 0))
        if now - last < LAST_USED_RESOLUTION_MS:
            return
        _touched[principal.key_hash] = now
    try:
        writes.update(
            ApiKey,
            principal.key_hash,
            actions=[ApiKey.last_used_at.set(now)],
            # Never an upsert: a key deleted meanwhile is not made again as a record without
            # its tenant or scopes (whose lookup would then fail).
            condition=ApiKey.key_hash.exists()
            & (ApiKey.last_used_at.does_not_exist() | (ApiKey.last_used_at < now - LAST_USED_RESOLUTION_MS)),
            token=None,
            return_item=False,
        )
    except ConditionFailed:
        pass
    except StoreUnavailable as exc:
        logger.warning("Could not record last use of key %s…: %s", principal.key_prefix, exc)


@dataclass(frozen=True)
class Seeded:
    tenant_id: str
    key: str | None  # the new key; None when the tenant kept the active key it had
    revoked: tuple[str, ...] = ()  # the keys --rotate revoked, masked


def tenants_seed(*, rotate: bool = False) -> list[Seeded]:
    """Give each demo tenant one active key; with `rotate`, a new one, revoking the old."""
    results = []
    for tenant_id in SEED_TENANTS:
        keys = store.call(lambda tenant_id=tenant_id: list(ApiKey.tenant_index.query(tenant_id)), what="Query keys")
        active = [k for k in keys if k.status == ACTIVE]
        if active and not rotate:
            results.append(Seeded(tenant_id, None))
            continue
        _, key = api_key_issue(tenant_id=tenant_id)
        revoked = tuple(old.masked for old in active if _revoke(old))
        results.append(Seeded(tenant_id, key, revoked))
    return results
