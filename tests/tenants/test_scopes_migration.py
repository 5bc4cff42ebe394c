"""The one-time migration of keys issued before the `hooks` scope existed: an active key
holding `consume` gains `hooks` once; keys issued since, consume-only ones included, never do."""

from io import StringIO

from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from tenants.keys import hash_key
from tenants.models import ApiKey
from tenants.services import api_key_issue, api_key_revoke


def issued_before_hooks(tenant_id: str, scopes: tuple[str, ...]) -> str:
    """A key as the version before `hooks` stored it: no scopes_version."""
    record, key = api_key_issue(tenant_id=tenant_id, scopes=scopes)
    record.update(actions=[ApiKey.scopes_version.remove()])
    return key


def scopes_of(key: str) -> set[str]:
    return set(ApiKey.get(hash_key(key)).scopes)


def migrate() -> str:
    out = StringIO()
    call_command("migrate_hooks_scope", stdout=out)
    return out.getvalue()


def test_old_consume_keys_gain_hooks_once_and_nothing_else_changes():
    worker = issued_before_hooks("acme", ("consume",))
    both = issued_before_hooks("globex", ("ingest", "consume"))
    ingest = issued_before_hooks("acme", ("ingest",))
    revoked = issued_before_hooks("acme", ("consume",))
    api_key_revoke(key_or_prefix=revoked)
    issued_since = api_key_issue(tenant_id="acme", scopes=("consume",))[1]

    first = migrate()
    second = migrate()

    assert scopes_of(worker) == {"consume", "hooks"} and scopes_of(both) == {"ingest", "consume", "hooks"}
    assert (scopes_of(ingest), scopes_of(revoked), scopes_of(issued_since)) == ({"ingest"}, {"consume"}, {"consume"})
    assert first.splitlines()[:3] == [
        "Gave the hooks scope to 2 key(s) holding consume:",
        f"  acme             {ApiKey.get(hash_key(worker)).masked}",
        f"  globex           {ApiKey.get(hash_key(both)).masked}",
    ]
    assert "Marked 1 key(s) without consume as migrated, scopes unchanged." in first
    assert second == "Every active key was issued knowing the hooks scope: nothing changed.\n"


def test_a_consume_only_key_issued_after_the_migration_never_gains_hooks():
    issued_before_hooks("acme", ("consume",))
    migrate()
    after = api_key_issue(tenant_id="acme", scopes=("consume",))[1]

    migrate()

    assert scopes_of(after) == {"consume"}


def test_a_migrated_key_reads_the_hooks_it_could_not_before():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_before_hooks('acme', ('consume',))}")
    refused = client.get("/v1/hooks")

    migrate()
    cache.clear()  # as AUTH_CACHE_SECONDS passing does

    assert (refused.status_code, client.get("/v1/hooks").status_code) == (403, 200)
