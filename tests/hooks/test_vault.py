"""Hook secrets at rest: sealed with a key derived from SECRET_KEY, readable after a key
rotation through SECRET_KEY_FALLBACKS, and never stored as given."""

import pytest

from hooks import vault


def test_sealed_secret_opens_to_itself_and_does_not_contain_it():
    sealed = vault.seal("whsec_c2VjcmV0LXNlY3JldA==")
    assert "c2VjcmV0" not in sealed
    assert vault.unseal(sealed) == "whsec_c2VjcmV0LXNlY3JldA=="


def test_secret_sealed_under_the_old_key_opens_while_the_old_key_is_a_fallback(settings):
    settings.SECRET_KEY = "old-key"
    sealed = vault.seal("whsec_b2xk")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key", ["old-key"]
    assert vault.unseal(sealed) == "whsec_b2xk"


def test_secret_sealed_under_a_forgotten_key_is_refused(settings):
    settings.SECRET_KEY = "old-key"
    sealed = vault.seal("whsec_b2xk")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key", []
    with pytest.raises(ValueError, match="SECRET_KEY"):
        vault.unseal(sealed)
