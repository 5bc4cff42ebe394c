import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tenants.models import ApiKey
from tenants.selectors import tenant_get_by_api_key
from triggerapi.commands import KEYS_NOT_ON_LAMBDA


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_issue_key_prints_the_key_last():
    key = run("issue_key", "acme", "--scopes", "ingest").strip().splitlines()[-1]

    assert tenant_get_by_api_key(api_key=key).scopes == frozenset({"ingest"})


def test_issue_key_json():
    data = json.loads(run("issue_key", "acme", "--json"))

    assert set(data) == {"tenant", "key", "prefix", "scopes"}
    assert (data["tenant"], data["scopes"]) == ("acme", ["consume", "hooks", "ingest"])
    assert data["key"].startswith(data["prefix"])


def test_issue_key_with_bad_scope_is_a_command_error():
    with pytest.raises(CommandError):
        run("issue_key", "acme", "--scopes", "root")


def test_seed_tenants_prints_keys_and_exports_once_then_says_nothing_changed():
    first = run("seed_tenants")
    second = run("seed_tenants")

    for tenant in ("ACME", "GLOBEX", "INITECH"):
        assert f"export {tenant}_API_KEY=tk_live_" in first
    assert "export API_KEYS=tk_live_" in first and "export TENANT_NAMES=acme,globex,initech" in first
    assert "nothing changed" in second and "tk_live_" not in second


def test_list_keys_masks_keys_and_revoke_key_revokes_by_prefix():
    key = json.loads(run("issue_key", "acme", "--json"))["key"]

    listed = run("list_keys", "acme")
    prefix = listed.splitlines()[1].split()[1]
    revoked = run("revoke_key", prefix)

    assert key not in listed and key[:16] in listed and "active" in listed
    assert "Revoked" in revoked
    assert "revoked" in run("list_keys")
    assert tenant_get_by_api_key(api_key=key) is None


def test_create_tables_is_safe_to_run_again():
    output = run("create_tables")

    assert "Test-Events: already exists, TTL on expires_at" in output
    assert "Test-TenantApiKeys: already exists" in output
    assert "Test-Sessions: already exists, TTL on expires_at" in output


@pytest.mark.parametrize(
    "args", [("seed_tenants",), ("seed_tenants", "--rotate", "--json"), ("issue_key", "acme", "--json")]
)
def test_on_lambda_the_key_printing_commands_refuse_and_issue_nothing(args):
    out, err = StringIO(), StringIO()

    with override_settings(IS_LAMBDA=True), pytest.raises(CommandError) as raised:
        call_command(*args, stdout=out, stderr=err)

    assert str(raised.value) == KEYS_NOT_ON_LAMBDA
    assert (out.getvalue(), err.getvalue()) == ("", "")
    assert list(ApiKey.scan()) == []


def test_revoke_key_says_when_running_servers_stop_accepting_the_key():
    key = json.loads(run("issue_key", "acme", "--json"))["key"]

    out = run("revoke_key", key)

    assert out.splitlines()[1] == (
        "Running servers that verified it in the last 60 s (AUTH_CACHE_SECONDS) accept it until their cache runs out."
    )


def test_revoking_a_revoked_key_says_so_and_succeeds():
    key = json.loads(run("issue_key", "acme", "--json"))["key"]
    run("revoke_key", key)

    out = run("revoke_key", key)

    assert re.fullmatch(
        r"tk_live_\S{8}…\S{4} \(tenant acme\) was already revoked on \d{4}-\d\d-\d\d \d\d:\d\d UTC; nothing changed.\n",
        out,
    )


def test_seed_tenants_rotate_names_the_revoked_keys_and_how_long_servers_accept_them():
    first = json.loads(run("seed_tenants", "--json"))["tenants"]

    out = run("seed_tenants", "--rotate")

    masked = [f"{t['tenant']} {t['key'][:16]}…{t['key'][-4:]}" for t in first]
    assert out.splitlines()[:2] == [
        f"Revoked the previous keys: {', '.join(masked)}.",
        "Running servers that verified one in the last 60 s (AUTH_CACHE_SECONDS) accept it until their cache runs out.",
    ]
    assert all(tenant_get_by_api_key(api_key=t["key"]) is None for t in first)
