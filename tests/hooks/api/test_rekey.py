"""Rotating SECRET_KEY: reseal_hook_secrets moves every hook secret (and a previous one still
signing) to the new key, after which the old key can leave SECRET_KEY_FALLBACKS and
deliveries still sign; the canary in the store tells /health/ready whether this process's
keys open what was sealed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from hooks import handler, rekey, vault
from hooks.models import CANARY_KEY, Hook, SecretCanary
from tests.hooks.receiver import Receiver
from tests.store_hooks import store_calls

OLD, NEW = "tests-only-secret", "the-new-secret-key"  # OLD: the key the tests' settings hold


@pytest.fixture
def receiver(local_targets):
    with Receiver() as running:
        yield running


def reseal() -> str:
    out = StringIO()
    call_command("reseal_hook_secrets", stdout=out, stderr=StringIO())
    return out.getvalue()


def stored(hook: dict) -> Hook:
    return Hook.get("acme", Hook.key_for(hook["id"]), consistent_read=True)


def canary() -> str:
    return SecretCanary.get(CANARY_KEY, SecretCanary.sk.default).sealed


def ready() -> tuple[int, dict]:
    response = APIClient().get("/health/ready")
    return response.status_code, response.json()


def rotate_to_the_new_key(settings, *, keep_old: bool) -> None:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD] if keep_old else []


def test_after_a_reseal_the_old_key_can_go_and_deliveries_still_sign(acme, receiver, stream_records, settings):
    hook = acme.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json").json()
    rotated = acme.post(f"/v1/hooks/{hook['id']}/rotate-secret").json()["secret"]
    rotate_to_the_new_key(settings, keep_old=True)

    first, again = reseal(), reseal()
    rotate_to_the_new_key(settings, keep_old=False)
    event_id = acme.post("/v1/events", {"event_type": "order.paid"}, format="json").json()["id"]
    handler.handle_stream(stream_records("acme", event_id))
    handler.run_due()

    [request] = receiver.requests
    assert request.headers["webhook-id"] == event_id
    for secret in (rotated, hook["secret"]):  # the previous secret still signs beside the new one
        Webhook(secret).verify(request.body, request.headers)
    assert first.startswith("Resealed the secrets of 1 hook(s) under the current SECRET_KEY; 0 already were.")
    assert "SECRET_KEY_FALLBACKS can now leave every function" in first
    assert again.startswith("Resealed the secrets of 0 hook(s) under the current SECRET_KEY; 1 already were.")
    assert vault.reseal(stored(hook).secret) is None and vault.reseal(stored(hook).previous_secret) is None
    assert ready() == (200, {"status": "ready"})


def test_without_a_reseal_dropping_the_old_key_leaves_hooks_unable_to_sign_and_not_ready(acme, local_targets):
    hook = acme.post("/v1/hooks", {"target_url": "http://127.0.0.1:9/in"}, format="json").json()
    rotate_to_the_new_key(local_targets, keep_old=True)
    assert ready() == (200, {"status": "ready"})

    rotate_to_the_new_key(local_targets, keep_old=False)

    status, body = ready()
    assert status == 503
    assert body["error"]["details"] == {"check": "secret_key"}
    assert body["error"]["message"].startswith(
        "Not ready: this process's SECRET_KEY and SECRET_KEY_FALLBACKS cannot open the secret-key canary"
    )
    with pytest.raises(ValueError, match="neither current nor a fallback"):
        vault.unseal(stored(hook).secret)


def test_a_test_call_whose_secret_no_key_opens_is_503_and_sends_nothing(acme, receiver, settings):
    hook = acme.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json").json()
    rotate_to_the_new_key(settings, keep_old=False)

    response = acme.post(f"/v1/hooks/{hook['id']}/test")

    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert response.json()["error"]["details"] == {"write": "not_applied"}
    assert "cannot open the hook's signing secret" in response.json()["error"]["message"]
    assert receiver.requests == []


def test_a_previous_secret_past_its_24_hours_is_dropped_rather_than_resealed(acme, settings):
    hook = Hook(
        "acme",
        Hook.key_for("hook_01JD7Z8X4Q2N3M5P6R7S8T9V0W"),
        hook_id="hook_01JD7Z8X4Q2N3M5P6R7S8T9V0W",
        target_url="https://hooks.example.com/in",
        secret=vault.seal("whsec_bm93"),
        previous_secret=vault.seal("whsec_b2xk"),
        previous_secret_until=1,
        created_at=1,
        updated_at=1,
    )
    hook.save()
    rotate_to_the_new_key(settings, keep_old=True)

    reseal()

    again = Hook.get("acme", hook.sk)
    assert (again.previous_secret, again.previous_secret_until, again.updated_at) == (None, None, 1)
    settings.SECRET_KEY_FALLBACKS = []
    assert vault.unseal(again.secret) == "whsec_bm93"


def test_a_hook_changed_while_resealing_is_read_again_and_resealed(acme, local_targets, monkeypatch):
    settings = local_targets
    hook = acme.post("/v1/hooks", {"target_url": "http://127.0.0.1:9/in"}, format="json").json()
    stale = stored(hook)
    rotated = acme.post(f"/v1/hooks/{hook['id']}/rotate-secret").json()["secret"]
    monkeypatch.setattr(rekey, "_hooks_all", lambda: [stale])
    rotate_to_the_new_key(settings, keep_old=True)

    with store_calls() as calls:
        output = reseal()

    fresh = stored(hook)
    settings.SECRET_KEY_FALLBACKS = []
    assert (vault.unseal(fresh.secret), vault.unseal(fresh.previous_secret)) == (rotated, hook["secret"])
    assert calls["UpdateItem"] == 2  # the first, conditional on the stale secret, failed
    assert output.startswith("Resealed the secrets of 1 hook(s)")


def test_a_shell_whose_keys_are_not_the_stages_is_refused_and_changes_nothing(acme, settings):
    sealed = canary()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-developers-own-key", []

    with store_calls() as calls, pytest.raises(CommandError) as refused:
        reseal()

    assert str(refused.value).startswith("This shell's SECRET_KEY and SECRET_KEY_FALLBACKS cannot open")
    assert set(calls) == {"GetItem"} and canary() == sealed


def test_a_secret_no_key_opens_fails_the_command_and_keeps_the_canary_where_it_was(acme, settings):
    settings.SECRET_KEY = "a-forgotten-key"
    lost = vault.seal("whsec_bG9zdA==")
    settings.SECRET_KEY = OLD
    Hook(
        "acme",
        Hook.key_for("hook_01JD7Z8X4Q2N3M5P6R7S8T9V0W"),
        hook_id="hook_01JD7Z8X4Q2N3M5P6R7S8T9V0W",
        target_url="https://hooks.example.com/in",
        secret=lost,
        created_at=1,
        updated_at=1,
    ).save()
    sealed = canary()
    rotate_to_the_new_key(settings, keep_old=True)

    with pytest.raises(CommandError, match="add the key that sealed them to SECRET_KEY_FALLBACKS"):
        reseal()

    assert canary() == sealed  # under the old key still: dropping it would not be safe


def test_create_tables_seals_a_missing_canary_and_never_overwrites_one(settings):
    SecretCanary.get(CANARY_KEY, SecretCanary.sk.default).delete()
    out = StringIO()
    call_command("create_tables", stdout=out)
    sealed = canary()
    settings.SECRET_KEY = "another-shells-key"
    again = StringIO()
    call_command("create_tables", stdout=again)

    assert "Test-Hooks: already exists, TTL on expires_at, secret-key canary sealed under this SECRET_KEY" in (
        out.getvalue()
    )
    assert "secret-key canary sealed under another SECRET_KEY" in again.getvalue()
    assert canary() == sealed


def test_ready_is_503_naming_the_check_when_the_canary_is_missing():
    SecretCanary.get(CANARY_KEY, SecretCanary.sk.default).delete()

    assert ready() == (
        503,
        {
            "error": {
                "code": "service_unavailable",
                "message": "Not ready: the secret-key canary is missing: run create_tables.",
                "details": {"check": "secret_key"},
            }
        },
    )
