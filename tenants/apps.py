from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self):
        # Registers the Bearer scheme with drf-spectacular (extensions register on import).
        from tenants import openapi  # noqa: F401
