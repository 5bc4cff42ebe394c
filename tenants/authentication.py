from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from tenants.keys import KEY_PREFIX
from tenants.selectors import tenant_get_by_api_key, tenant_get_by_api_key_hash
from tenants.services import api_key_touch

SEND_AS_BEARER = "Send the API key as 'Authorization: Bearer <api key>'"

# What a browser session holds: the SHA-256 of the key it logged in with, never the key,
# so the sessions table holds nothing that works as an API key.
SESSION_KEY_HASH = "api_key_hash"


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer tk_live_...`, per DRF's contract: None when the header is not
    a Bearer header, AuthenticationFailed when it is one but the key is bad."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            if hint := _misplaced_key_hint(request, parts):
                raise AuthenticationFailed(hint)
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


def _misplaced_key_hint(request, parts: list[bytes]) -> str | None:
    """A key sent the way other APIs take one (`Token <key>`, the bare key, X-API-Key) is
    ours but misplaced: say how to send it, rather than that nothing was sent."""
    if parts and parts[-1].startswith(KEY_PREFIX.encode()):
        if len(parts) == 1:
            return f"{SEND_AS_BEARER}: the word 'Bearer' before the key is missing."
        scheme = parts[0].decode("latin-1")
        named = f"'{scheme}'" if scheme.isalpha() and len(scheme) <= 20 else "another scheme"
        return f"{SEND_AS_BEARER}, with the scheme 'Bearer', not {named}."
    if not parts and request.META.get("HTTP_X_API_KEY"):
        return f"{SEND_AS_BEARER}; the X-API-Key header is not read."
    if parts:  # a credential of another scheme (Basic, Digest, ...): say it is not read
        scheme = parts[0].decode("latin-1")
        named = f"'{scheme}'" if scheme.isalpha() and len(scheme) <= 20 else "this"
        return f"{SEND_AS_BEARER}; the {named} scheme is not read."
    return None


class ApiKeySessionAuthentication(SessionAuthentication):
    """The browsable API's login (browser.views.login): a session (browser.sessions) naming a key.

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
