from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from tenants.selectors import tenant_get_by_api_key, tenant_get_by_api_key_hash
from tenants.services import api_key_touch

# What a browser session holds: the SHA-256 of the key it logged in with, never the key.
# The session cookie is signed, not encrypted, so it must not carry anything that works as
# a credential without the signature.
SESSION_KEY_HASH = "api_key_hash"


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer tk_live_...`, per DRF's contract: None when the header is not
    a Bearer header, AuthenticationFailed when it is one but the key is bad."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: expected 'Bearer <api key>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Malformed API key.") from None
        principal = tenant_get_by_api_key(api_key=key)
        if principal is None:
            raise AuthenticationFailed("Unknown or revoked API key.")
        api_key_touch(principal=principal)
        return principal, None

    def authenticate_header(self, request) -> str:
        return "Bearer"


class ApiKeySessionAuthentication(SessionAuthentication):
    """The browsable API's login (browser.views.login): a signed session cookie naming a key.

    A request that carries Authorization is judged by that header alone, so a bad header is
    401 even beside a good cookie. The key is looked up on every request (through the same
    cache as the header), so revoking it ends its browser sessions within AUTH_CACHE_SECONDS.
    Writes need the CSRF token, as with DRF's SessionAuthentication."""

    def authenticate(self, request):
        if "HTTP_AUTHORIZATION" in request.META:
            return None
        key_hash = request.session.get(SESSION_KEY_HASH)
        if not key_hash:
            return None
        principal = tenant_get_by_api_key_hash(key_hash=key_hash)
        if principal is None:
            raise AuthenticationFailed("The API key this browser logged in with was revoked; log in again.")
        self.enforce_csrf(request)
        api_key_touch(principal=principal)
        return principal, None
