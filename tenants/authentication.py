from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from tenants.selectors import tenant_get_by_api_key


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
        return principal, None

    def authenticate_header(self, request) -> str:
        return "Bearer"
