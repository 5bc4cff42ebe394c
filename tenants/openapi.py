from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular (and so Swagger UI's Authorize button) how keys are sent."""

    target_class = "tenants.authentication.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tk_live_<43 URL-safe characters>",
            "description": "A tenant's API key. Missing, unknown or revoked: 401 authentication_failed.",
        }
