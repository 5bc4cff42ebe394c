import logging
from dataclasses import dataclass

from pynamodb.exceptions import PynamoDBException, UpdateError

from tenants.keys import TENANT_ID_RE, display_parts, generate_key, hash_key, looks_like_key
from tenants.models import ACTIVE, REVOKED, SCOPES, ApiKey
from triggerapi.store import is_condition_failure, now_ms

logger = logging.getLogger(__name__)

SEED_TENANTS = ("acme", "globex", "initech")
LAST_USED_RESOLUTION_MS = 3600 * 1000


class ApiKeyError(ValueError):
    """A key operation that cannot be done as asked (unknown key, ambiguous prefix, bad input)."""


def api_key_issue(*, tenant_id: str, scopes: tuple[str, ...] = SCOPES) -> tuple[ApiKey, str]:
    """Issue a key for a tenant (a tenant exists as long as it has keys). Returns the stored
    record and the plaintext key, which is not kept anywhere."""
    if not TENANT_ID_RE.match(tenant_id):
        raise ApiKeyError("Tenant ids are 1-63 characters: lowercase letters, digits, '-' and '_'.")
    unknown = set(scopes) - set(SCOPES)
    if not scopes or unknown:
        raise ApiKeyError(f"Scopes must be a non-empty subset of {', '.join(SCOPES)}.")
    key = generate_key()
    prefix, last4 = display_parts(key)
    record = ApiKey(
        hash_key(key),
        tenant_id=tenant_id,
        prefix=prefix,
        last4=last4,
        scopes=set(scopes),
        status=ACTIVE,
        created_at=now_ms(),
    )
    record.save(condition=ApiKey.key_hash.does_not_exist())
    return record, key


def api_key_revoke(*, key_or_prefix: str) -> tuple[ApiKey, bool]:
    """Revoke a key. Returns the record and whether this call revoked it: revoking is
    idempotent, and a key that already was revoked is returned unchanged, with False."""
    record = _find_key(key_or_prefix.strip())
    return record, _revoke(record)


def _revoke(record: ApiKey) -> bool:
    if record.status == REVOKED:
        return False
    try:
        record.update(
            actions=[ApiKey.status.set(REVOKED), ApiKey.revoked_at.set(now_ms())],
            condition=ApiKey.status == ACTIVE,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        record.refresh(consistent_read=True)  # revoked meanwhile, by someone else
        return False
    return True


def _find_key(key_or_prefix: str) -> ApiKey:
    if looks_like_key(key_or_prefix):
        try:
            return ApiKey.get(hash_key(key_or_prefix), consistent_read=True)
        except ApiKey.DoesNotExist:
            raise ApiKeyError("No such key.") from None
    # Also accepted: the masked form list_keys prints, `tk_live_XXXXXXXX…abcd`.
    prefix, _, last4 = key_or_prefix.partition("…")
    if len(prefix) < 12:
        raise ApiKeyError("Give the whole key or its prefix as list_keys shows it (tk_live_XXXXXXXX).")
    matches = [k for k in ApiKey.scan(ApiKey.prefix.startswith(prefix)) if k.last4 == last4 or not last4]
    if not matches:
        raise ApiKeyError(f"No key starts with {key_or_prefix}.")
    if len(matches) > 1:
        raise ApiKeyError(f"{len(matches)} keys start with {key_or_prefix}; give more of the key.")
    return matches[0]


def api_key_touch(*, key: ApiKey) -> None:
    """Record that a key was used, at most once an hour (a conditional write, so concurrent
    requests don't all write). Failing to record it never fails the request."""
    now = now_ms()
    if key.last_used_at and now - key.last_used_at < LAST_USED_RESOLUTION_MS:
        return
    try:
        key.update(
            actions=[ApiKey.last_used_at.set(now)],
            condition=ApiKey.last_used_at.does_not_exist() | (ApiKey.last_used_at < now - LAST_USED_RESOLUTION_MS),
        )
    except PynamoDBException as exc:
        if not is_condition_failure(exc):
            logger.warning("Could not record last use of key %s…: %s", key.prefix, exc)


@dataclass(frozen=True)
class Seeded:
    tenant_id: str
    key: str | None  # the new key; None when the tenant kept the active key it had
    revoked: tuple[str, ...] = ()  # the keys --rotate revoked, masked


def tenants_seed(*, rotate: bool = False) -> list[Seeded]:
    """Give each demo tenant one active key; with `rotate`, a new one, revoking the old."""
    results = []
    for tenant_id in SEED_TENANTS:
        active = [k for k in ApiKey.tenant_index.query(tenant_id) if k.status == ACTIVE]
        if active and not rotate:
            results.append(Seeded(tenant_id, None))
            continue
        _, key = api_key_issue(tenant_id=tenant_id)
        revoked = tuple(old.masked for old in active if _revoke(old))
        results.append(Seeded(tenant_id, key, revoked))
    return results
