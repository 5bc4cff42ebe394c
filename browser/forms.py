from django import forms
from django.middleware.csrf import rotate_token

from tenants.authentication import SESSION_KEY_HASH
from tenants.keys import hash_key
from tenants.selectors import tenant_get_by_api_key


class ApiKeyLoginForm(forms.Form):
    api_key = forms.CharField(
        label="API key",
        max_length=200,
        widget=forms.PasswordInput(
            attrs={"class": "form-control", "autocomplete": "off", "autofocus": True, "placeholder": "tk_live_..."}
        ),
    )

    def clean_api_key(self) -> str:
        """The key is checked exactly as the Authorization header checks it."""
        key = self.cleaned_data["api_key"]
        if tenant_get_by_api_key(api_key=key) is None:
            raise forms.ValidationError("Unknown or revoked API key.")
        return key

    @property
    def key_hash(self) -> str:
        return hash_key(self.cleaned_data["api_key"])

    def logged_in(self, request) -> bool:
        """A valid key logs the session in: a new session id (none fixed before the login
        survives it) holding the key's hash, never the key. False for a form with errors."""
        if not self.is_valid():
            return False
        request.session.cycle_key()
        request.session[SESSION_KEY_HASH] = self.key_hash
        rotate_token(request)  # as Django's own login does: no CSRF token outlives it
        return True
