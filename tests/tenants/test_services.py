import pytest

from tenants.keys import hash_key
from tenants.models import ApiKey
from tenants.selectors import api_key_list, tenant_get_by_api_key
from tenants.services import (
    ApiKeyError,
    Seeded,
    _revoke,
    api_key_issue,
    api_key_revoke,
    api_key_touch,
    tenants_seed,
)
from tests.store_hooks import store_calls


def test_issued_key_is_stored_only_as_a_hash_with_a_display_prefix():
    record, key = api_key_issue(tenant_id="acme")

    assert key.startswith("tk_live_") and len(key) >= 8 + 43
    stored = ApiKey.get(hash_key(key))
    assert key not in str(stored.attribute_values)
    assert stored.prefix == key[:16] and stored.last4 == key[-4:]
    assert stored.masked == f"{key[:16]}…{key[-4:]}"
    assert stored.scopes == {"ingest", "consume", "hooks"}


def test_keys_are_unique_and_random():
    keys = {api_key_issue(tenant_id="acme")[1] for _ in range(20)}

    assert len(keys) == 20


@pytest.mark.parametrize("tenant_id", ["", "Acme", "a b", "x" * 64, "-lead"])
def test_bad_tenant_ids_are_refused(tenant_id):
    with pytest.raises(ApiKeyError):
        api_key_issue(tenant_id=tenant_id)


@pytest.mark.parametrize("scopes", [(), ("admin",), ("ingest", "bogus")])
def test_bad_scopes_are_refused(scopes):
    with pytest.raises(ApiKeyError):
        api_key_issue(tenant_id="acme", scopes=scopes)


def test_principal_carries_tenant_and_scopes():
    _, key = api_key_issue(tenant_id="acme", scopes=("ingest",))

    principal = tenant_get_by_api_key(api_key=key)

    assert (principal.tenant_id, principal.scopes, principal.is_authenticated) == ("acme", frozenset({"ingest"}), True)


def test_revoke_by_prefix_as_list_keys_shows_it():
    record, key = api_key_issue(tenant_id="acme")

    revoked, changed = api_key_revoke(key_or_prefix=record.masked)

    assert (revoked.key_hash, changed) == (record.key_hash, True)
    assert ApiKey.get(hash_key(key)).status == "revoked"
    assert tenant_get_by_api_key(api_key=key) is None


def test_revoking_a_revoked_key_changes_nothing_and_says_so():
    _, key = api_key_issue(tenant_id="acme")
    first, _ = api_key_revoke(key_or_prefix=key)

    again, changed = api_key_revoke(key_or_prefix=key)

    assert changed is False
    assert (again.status, again.revoked_at) == ("revoked", first.revoked_at)


def test_a_key_revoked_meanwhile_by_someone_else_counts_as_already_revoked():
    record, key = api_key_issue(tenant_id="acme")
    stale = ApiKey.get(hash_key(key))
    api_key_revoke(key_or_prefix=key)

    assert _revoke(stale) is False
    assert (stale.status, stale.revoked_at) == ("revoked", ApiKey.get(hash_key(key)).revoked_at)


def test_revoke_unknown_key_is_an_error():
    with pytest.raises(ApiKeyError):
        api_key_revoke(key_or_prefix="tk_live_" + "Z" * 43)


def test_last_used_is_written_at_most_once_an_hour(time_machine):
    time_machine.move_to("2026-11-22 12:00:00+00:00", tick=False)
    _, key = api_key_issue(tenant_id="acme")
    principal = tenant_get_by_api_key(api_key=key)
    api_key_touch(principal=principal)
    first = ApiKey.get(hash_key(key)).last_used_at

    time_machine.shift(59 * 60)
    with store_calls() as calls:
        api_key_touch(principal=principal)  # a cached principal still says "never used"
    time_machine.shift(2 * 60)
    api_key_touch(principal=principal)

    assert dict(calls) == {}
    assert first is not None
    assert ApiKey.get(hash_key(key)).last_used_at == first + 61 * 60 * 1000


def test_touching_a_key_whose_record_is_gone_writes_nothing():
    """The write is an update with a condition: without `exists` it would make a record of
    only the hash and the time, whose lookup then fails for want of a tenant and scopes."""
    _, key = api_key_issue(tenant_id="acme")
    principal = tenant_get_by_api_key(api_key=key)
    ApiKey.get(hash_key(key)).delete()

    api_key_touch(principal=principal)

    assert list(ApiKey.scan()) == []


def test_seed_creates_three_tenants_once_and_rotate_replaces_their_keys():
    first = tenants_seed()
    again = tenants_seed()
    rotated = tenants_seed(rotate=True)

    assert [s.tenant_id for s in first] == ["acme", "globex", "initech"] and all(s.key for s in first)
    assert again == [Seeded("acme", None), Seeded("globex", None), Seeded("initech", None)]
    assert all(s.key for s in rotated)
    assert [s.revoked for s in rotated] == [(masked(s.key),) for s in first]
    assert tenant_get_by_api_key(api_key=first[0].key) is None
    assert tenant_get_by_api_key(api_key=rotated[0].key).tenant_id == "acme"
    assert [k.status for k in api_key_list(tenant_id="acme")] == ["revoked", "active"]


def masked(key: str) -> str:
    return ApiKey.get(hash_key(key)).masked


def test_seeded_keys_have_every_scope():
    seeded = tenants_seed()

    assert {tenant_get_by_api_key(api_key=s.key).scopes for s in seeded} == {frozenset({"ingest", "consume", "hooks"})}
